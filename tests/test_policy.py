"""Flux policies: tiny construction, latent spaces, generation, LoRA into plain diffusers, bad input."""

from __future__ import annotations

import pytest
import torch
from diffusers import FluxPipeline, StableDiffusion3Pipeline

from zoo.policy.flux import FluxPolicy, LoraSpec, TinyFlux
from zoo.policy.sd3 import SD3Policy, TinySD3

# (build a tiny policy with a real tiny AutoencoderKL, the plain diffusers pipeline class, its guidance argument)
FAMILIES = {
    "flux": (lambda: FluxPolicy(tiny=TinyFlux(image_size=64, pixel_factor=0)), FluxPipeline, "guidance"),
    "sd3": (lambda: SD3Policy(tiny=TinySD3(image_size=64, pixel_factor=0)), StableDiffusion3Pipeline, "cfg_scale"),
}


@pytest.fixture(scope="module")
def policy():
    torch.manual_seed(0)
    return FluxPolicy(tiny=TinyFlux(image_size=32))


def test_pixel_space_round_trip_and_shapes(policy):
    images = torch.rand(2, 3, 32, 32)
    tokens = policy.images_to_tokens(images)
    assert tokens.shape == (2, policy.image_seq_len, 4 * 48)
    assert torch.allclose(policy.tokens_to_images(tokens), images, atol=1e-6)


def test_generation_is_seeded_per_sample_and_batch_invariant(policy):
    prompts = ["a red circle above a blue square", "a green triangle to the left of a red square"] * 2
    full, traj = policy.generate(prompts, [1, 2, 3, 4], steps=3, noise_level=0.8, keep=True)
    single, _ = policy.generate(prompts, [1, 2, 3, 4], steps=3, noise_level=0.8, batch_size=1)
    assert torch.allclose(full, single, atol=1e-5)
    assert traj[0].log_probs.shape == (4, 3) and len(traj[0].samples) == 4
    again, _ = policy.generate(prompts[:1], [9], steps=3, noise_level=0.8)
    assert not torch.allclose(again, full[:1])


def test_text_embeddings_are_cached_and_long_prompts_counted(policy, caplog):
    policy.encode_text(["a red circle"])
    cached = len(policy._text_cache)
    policy.encode_text(["a red circle", "a red circle"])
    assert len(policy._text_cache) == cached
    long = " and ".join(["a red circle to the left of a blue square"] * 20)
    with caplog.at_level("WARNING"):
        embeds = policy.encode_text([long])
    assert policy.truncated == 1 and "truncated" in caplog.text
    assert embeds.prompt_embeds.shape[1] == policy.max_sequence_length
    with pytest.raises(ValueError, match="empty"):
        policy.encode_text([""])


def test_bad_resolution_and_lora_targets_fail_clearly():
    with pytest.raises(ValueError, match="resolution 36 cannot be encoded.*multiple of 8"):
        FluxPolicy(tiny=TinyFlux(image_size=32), resolution=36)
    with pytest.raises(ValueError, match=r"LoRA targets \['to_nothing'\] match no module"):
        FluxPolicy(tiny=TinyFlux(image_size=32), lora=LoraSpec(targets=["to_q", "to_nothing"]))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_lora_trained_here_loads_into_a_plain_diffusers_pipeline(family, tmp_path):
    build, pipeline_class, guidance = FAMILIES[family]
    torch.manual_seed(0)
    policy = build()
    policy.pipe.save_pretrained(tmp_path / "base")  # the base checkpoint, before any adapter
    policy.add_lora(LoraSpec(r=4, alpha=8))
    trainable = [p for n, p in policy.transformer.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n, p in policy.transformer.named_parameters() if p.requires_grad)
    optimizer = torch.optim.Adam(trainable, lr=5e-2)
    images = torch.rand(2, 3, 64, 64)
    for _ in range(3):
        loss = policy.flow_matching_loss(images, ["a red circle", "a blue square"], torch.Generator().manual_seed(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    policy.transformer.disable_adapters()
    base_images, _ = policy.generate(["a red circle"], [5], steps=2)
    policy.transformer.enable_adapters()
    ours, _ = policy.generate(["a red circle"], [5], steps=2)
    policy.save_lora(tmp_path / "lora")
    pipe = pipeline_class.from_pretrained(tmp_path / "base")

    def run(p):
        return p("a red circle", height=64, width=64, num_inference_steps=2, guidance_scale=getattr(policy, guidance),
                 latents=policy.noise([5]), max_sequence_length=policy.max_sequence_length, output_type="pt").images

    plain = run(pipe)
    pipe.load_lora_weights(tmp_path / "lora")
    adapted = run(pipe)
    # diffusers steps with float32 tensors, we with float64 scalars: ~1e-4 apart after the random tiny VAE
    effect = (adapted - plain).abs().mean()
    # measured: base 7e-4 apart, adapted 3e-3 apart, the LoRA's own effect 9e-2
    assert (plain - base_images).abs().mean() < 1e-3
    assert (adapted - ours).abs().mean() < 0.1 * effect, ((adapted - ours).abs().mean(), effect)


def test_sd3_classifier_free_guidance_extrapolates_from_the_empty_prompt():
    torch.manual_seed(0)
    policy = SD3Policy(tiny=TinySD3(image_size=32), guidance=3.0)
    x, text = policy.noise([1, 2]), policy.encode_text(["a red circle", "a blue square"])
    guided = policy.velocity(x, 0.7, text)
    policy.cfg_scale = 1.0
    cond = policy.velocity(x, 0.7, text)
    uncond = policy.velocity(x, 0.7, policy.unconditional(2))
    assert torch.allclose(guided, uncond + 3.0 * (cond - uncond), atol=1e-5)
    assert not torch.allclose(cond, uncond)
    with pytest.raises(ValueError, match="empty"):  # the empty prompt is the CFG branch, not a user prompt
        policy.encode_text([""])


def test_prompt_dropout_trains_the_unconditional_branch():
    torch.manual_seed(0)
    policy = SD3Policy(tiny=TinySD3(image_size=32))
    images, prompts = torch.rand(4, 3, 32, 32), ["a red circle", "a blue square", "a red square", "a blue circle"]

    def loss(dropout):
        return policy.flow_matching_loss(images, prompts, torch.Generator().manual_seed(3), prompt_dropout=dropout)

    assert torch.equal(loss(0.0), loss(0.0))
    assert not torch.allclose(loss(0.0), loss(1.0))
    policy.transformer.zero_grad()
    loss(1.0).backward()  # every caption dropped: gradients still reach the transformer
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.transformer.parameters())


def test_text_embeddings_carry_no_dropout_in_train_mode(policy):
    # T5 has dropout 0.1 by default: cached training embeddings must equal the eval-mode ones
    policy.train()
    train_embeds = policy._encode_prompts(["a red circle to the left of a blue square"]).prompt_embeds
    policy.eval()
    eval_embeds = policy._encode_prompts(["a red circle to the left of a blue square"]).prompt_embeds
    policy.train()
    assert not policy.text_encoders.training and policy.transformer.training
    assert torch.equal(train_embeds, eval_embeds)


def test_identity_init_starts_as_a_pass_through_and_default_does_not():
    def agreement(identity):
        torch.manual_seed(0)
        policy = FluxPolicy(tiny=TinyFlux(image_size=32, pixel_factor=2, heads=4, head_dim=32,
                                          axes_dims_rope=(8, 12, 12), identity_init=identity), guidance=1.0)
        x = policy.noise([1, 2])
        v = policy.velocity(x, 0.5, policy.encode_text(["a red circle", "a blue square"]))
        return torch.nn.functional.cosine_similarity(v.flatten(), x.flatten(), dim=0).item()

    assert agreement(True) > 0.95
    assert abs(agreement(False)) < 0.5


def test_x0_prediction_turns_the_predicted_image_into_the_velocity():
    from zoo.policy.base import X0_MIN_SIGMA

    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=32, prediction="x0"), guidance=1.0)
    tokens = torch.randn(3, policy.image_seq_len, 4 * 48)
    sigma = torch.tensor([0.9, 0.3, 0.01])
    text = policy.encode_text(["a red circle"] * 3)
    x0 = policy._predict(tokens, sigma, text)
    expected = (tokens - x0) / sigma.clamp(min=X0_MIN_SIGMA).view(-1, 1, 1)
    assert torch.allclose(policy.velocity(tokens, sigma, text), expected, atol=1e-6)
    # one Euler step from sigma to 0 lands on the predicted image
    assert torch.allclose(tokens[:2] - sigma[:2].view(-1, 1, 1) * expected[:2], x0[:2], atol=1e-5)
    loss = policy.flow_matching_loss(torch.rand(2, 3, 32, 32), ["a red circle", "a blue square"])
    loss.backward()
    assert torch.isfinite(loss) and policy.transformer.proj_out.weight.grad is not None
    with pytest.raises(ValueError, match="prediction must be one of"):
        FluxPolicy(tiny=TinyFlux(image_size=32, prediction="eps"))


def test_trained_text_encoders_get_gradients_skip_the_cache_and_are_saved_and_loaded(tmp_path):
    from zoo.policy.io import load_weights

    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=32), train_text_encoders=True).train()
    loss = policy.flow_matching_loss(torch.rand(2, 3, 32, 32), ["a red circle", "a blue square"], prompt_dropout=0.5)
    loss.backward()
    grads = [p.grad for p in policy.text_encoders.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads) and not policy._text_cache
    with torch.no_grad():
        for p in policy.text_encoders.parameters():
            p.add_(0.01 * torch.randn_like(p))  # "trained"
    policy.eval()
    images, _ = policy.generate(["a red circle above a blue square"], [3], steps=2)
    policy.save(tmp_path / "policy")
    assert (tmp_path / "policy" / "text_encoders" / "text_encoder_2").is_dir()
    fresh = FluxPolicy(tiny=TinyFlux(image_size=32)).eval()  # frozen random encoders until the save is loaded
    before, _ = fresh.generate(["a red circle above a blue square"], [3], steps=2)
    load_weights(fresh, tmp_path / "policy")
    after, _ = fresh.generate(["a red circle above a blue square"], [3], steps=2)
    assert not torch.allclose(before, images) and torch.allclose(after, images, atol=1e-6)
    prompt = ["a green triangle"]
    with torch.no_grad():
        assert torch.equal(fresh.encode_text(prompt).prompt_embeds, policy.encode_text(prompt).prompt_embeds)
    assert not any(p.requires_grad for p in fresh.text_encoders.parameters())
    import json

    from zoo.settings import SettingsError

    config = tmp_path / "policy" / "text_encoders" / "text_encoder_2" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "num_layers": 7}))
    with pytest.raises(SettingsError, match="num_layers"):  # a saved folder is data: its config is checked
        load_weights(FluxPolicy(tiny=TinyFlux(image_size=32)), tmp_path / "policy")


def test_velocity_loss_weightings_and_the_contrastive_term():
    from zoo.policy.base import velocity_loss

    v, target = torch.zeros(2, 3, 4), torch.ones(2, 3, 4)
    t = torch.tensor([0.5, 1.0])
    assert velocity_loss(v, target, t) == 1.0
    assert torch.isclose(velocity_loss(v, target, t, "x0"), torch.tensor((0.25 + 1.0) / 2))  # error * t, squared
    with pytest.raises(ValueError, match="weighting must be"):
        velocity_loss(v, target, t, "eps")
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=32))
    images, prompts = torch.rand(4, 3, 32, 32), ["a red circle", "a blue square", "a green circle", "a red square"]
    plain = policy.flow_matching_loss(images, prompts, torch.Generator().manual_seed(1))
    delta = policy.flow_matching_loss(images, prompts, torch.Generator().manual_seed(1), contrastive=0.05)
    assert delta < plain  # minus a positive error against the other samples' flows


def test_pair_contrastive_pushes_away_from_the_flow_to_the_partner_image():
    from zoo.policy.base import velocity_loss

    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=32))
    images, prompts = torch.rand(3, 3, 32, 32), ["a red circle left of a blue square",
                                                 "a blue square left of a red circle", "a green circle"]
    partners = [1, 0, -1]  # a preference pair (both sides) and a sample without one
    with torch.no_grad():
        loss = policy.flow_matching_loss(images, prompts, torch.Generator().manual_seed(1), contrastive=0.1,
                                         negatives=partners)
        generator = torch.Generator().manual_seed(1)  # the same draws, by hand
        x0 = policy.images_to_tokens(images)
        t = torch.sigmoid(torch.randn(3, generator=generator))
        eps = torch.randn(x0.shape, generator=generator)
        tb = t.view(-1, 1, 1)
        v = policy.model_velocity((1 - tb) * x0 + tb * eps, t, policy.encode_text(prompts))
        plain = velocity_loss(v, eps - x0, t)
        pushed = velocity_loss(v[:2], eps[:2] - x0[[1, 0]], t[:2])  # same noise, the partner's image
    assert torch.isclose(loss, plain - 0.1 * pushed, atol=1e-6)


def test_mean_pooled_text_is_the_masked_mean_of_clip_token_states():
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=32, pooling="mean"))
    prompts = ["a red circle", "a blue square above a green triangle"]
    pooled = policy.encode_text(prompts).pooled
    for prompt, row in zip(prompts, pooled):
        ids = policy.pipe.tokenizer(prompt, return_tensors="pt").input_ids
        with torch.no_grad():
            states = policy.pipe.text_encoder(ids).last_hidden_state[0]
        assert torch.allclose(row, states.mean(0), atol=1e-5)  # padding left out of the mean


def test_clip_from_initialises_the_text_encoder_from_a_caption_pretrained_clip(tmp_path):
    from zoo.policy.io import load_weights
    from zoo.reward.clip import CLIPBackbone, TinyCLIP

    torch.manual_seed(0)
    clip = CLIPBackbone(tiny=TinyCLIP(hidden_size=32, layers=1, heads=2, vision_hidden_size=32, vision_layers=1))
    clip.model.save_pretrained(tmp_path / "clip")
    sizes = dict(image_size=32, pooled_dim=32, clip_layers=1, clip_heads=2)
    policy = FluxPolicy(tiny=TinyFlux(**sizes, clip_from=str(tmp_path / "clip")))
    tower = clip.model.text_model.state_dict()
    assert all(torch.equal(v, tower[k.removeprefix("text_model.")])
               for k, v in policy.pipe.text_encoder.state_dict().items())
    prompt = ["a red circle above a blue square"]
    ids = policy.pipe.tokenizer(prompt, return_tensors="pt").input_ids  # the same world tokenizer as the CLIP's
    assert ids.tolist() == clip.inputs.tokenizer(prompt, return_tensors="pt")["input_ids"].tolist()
    policy.save(tmp_path / "policy")
    rebuilt = FluxPolicy(tiny=TinyFlux(**sizes))  # the sizes only: the weights come with the save
    load_weights(rebuilt, tmp_path / "policy")
    assert torch.equal(rebuilt.encode_text(prompt).pooled, policy.encode_text(prompt).pooled)
    with pytest.raises(ValueError, match="does not fit the tiny policy's sizes"):
        FluxPolicy(tiny=TinyFlux(image_size=32, clip_from=str(tmp_path / "clip")))
    with pytest.raises(FileNotFoundError, match="clip_from"):
        FluxPolicy(tiny=TinyFlux(**sizes, clip_from=str(tmp_path / "nothing")))


@pytest.mark.parametrize("family", ["flux", "sd3", "clip_reward"])
def test_tiny_clip_towers_pool_at_the_end_token_and_see_the_whole_prompt(family):
    """The world tokenizer's end-of-turn id is 2, which transformers' CLIP reads as "pool at the highest token id":
    the pooled vector was taken mid-prompt and missed what followed. Tiny towers end with id 0 and pool there."""
    from zoo.reward.clip import CLIPBackbone, TinyCLIP

    prompts = ["a red circle to the left of a blue square", "a red circle to the left of a blue triangle"]
    torch.manual_seed(0)
    if family == "clip_reward":
        clip = CLIPBackbone(tiny=TinyCLIP(hidden_size=32, layers=1, heads=2, vision_hidden_size=32, vision_layers=1))
        tokens = clip.inputs.tokenizer(prompts, return_tensors="pt")
        tower, ids = clip.model.text_model, tokens["input_ids"]
        pooled = tower(input_ids=ids, attention_mask=tokens["attention_mask"]).pooler_output
    else:
        policy = FluxPolicy(tiny=TinyFlux(image_size=32)) if family == "flux" else SD3Policy(tiny=TinySD3())
        tower, tokenizer = policy.pipe.text_encoder, policy.pipe.tokenizer
        ids = tokenizer(prompts, padding="max_length", max_length=77, return_tensors="pt").input_ids
        pooled = policy.encode_text(prompts).pooled
    end = int(tower.config.eos_token_id)
    assert end != 2 and all(end in row for row in ids.tolist())
    assert not torch.allclose(pooled[0], pooled[1])  # the last word reaches the pooled vector


def test_blocks_are_the_policys_own_fsdp_and_checkpointing_units():
    flux = FluxPolicy(tiny=TinyFlux(image_size=32, layers=1, single_layers=2))
    t = flux.transformer
    assert flux.blocks() == [*t.transformer_blocks, *t.single_transformer_blocks] and len(flux.blocks()) == 3
    sd3 = SD3Policy(tiny=TinySD3(layers=2))
    assert sd3.blocks() == list(sd3.transformer.transformer_blocks)
    with pytest.raises(AttributeError, match="single_transformer_blocks"):
        flux.blocks(sd3.transformer)  # a copy of another family's transformer: named clearly


def test_a_pretrained_sd3_folder_builds_on_meta_and_fills_from_its_safetensors(tmp_path):
    from zoo.dist.weights import has_meta

    torch.manual_seed(0)
    SD3Policy(tiny=TinySD3(image_size=32, pixel_factor=0, vae_channels=(8, 8))).pipe.save_pretrained(tmp_path / "sd3")
    whole = SD3Policy(pretrained=str(tmp_path / "sd3"))
    meta = SD3Policy(pretrained=str(tmp_path / "sd3"), init_device="meta")
    assert has_meta(meta.transformer) and meta.weights is not None and not has_meta(whole.transformer)
    meta.materialize("cpu")
    for (name, a), b in zip(whole.transformer.state_dict().items(), meta.transformer.state_dict().values()):
        assert torch.equal(a, b), name


def test_a_tiny_random_t5_is_a_bag_of_words_and_text_positions_give_the_transformer_word_order():
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=32, text_positions=True))
    one, other = policy.encode_text(["a red square above a blue circle", "a blue circle above a red square"]).prompt_embeds
    # the same words in the other order: each word's T5 state barely moves ("red" is token 1 here, token 5 there)
    assert torch.nn.functional.cosine_similarity(one[1], other[5], dim=0) > 0.99
    ids = policy._text_ids(6, "cpu")
    assert ids[:, 0].tolist() == [0, 1, 2, 3, 4, 5] and not ids[:, 1:].any()
    assert not FluxPolicy(tiny=TinyFlux(image_size=32))._text_ids(6, "cpu").any()  # Flux's own: all zero


def test_text_mask_makes_the_padding_change_nothing():
    torch.manual_seed(0)
    short = "a red square above a blue circle"
    long = "a green triangle to the left of an orange circle, and the orange circle below a purple square"
    tokens, sigma = torch.randn(2, 16, 192), torch.tensor([0.5, 0.5])  # 32 px, pixel factor 4: 16 tokens
    outputs = []
    for length in (40, 24):  # the prompt padded to 40 tokens or to 24, alone or beside a longer prompt
        torch.manual_seed(0)
        policy = FluxPolicy(tiny=TinyFlux(image_size=32, text_mask=True, max_sequence_length=length))
        with torch.no_grad():
            alone = policy._predict(tokens[:1], sigma[:1], policy.encode_text([short]))
            beside = policy._predict(tokens, sigma, policy.encode_text([short, long]))[:1]
        assert torch.allclose(alone, beside, atol=1e-6)
        outputs.append(alone)
    assert torch.allclose(*outputs, atol=1e-6)
    torch.manual_seed(0)
    unmasked = FluxPolicy(tiny=TinyFlux(image_size=32, max_sequence_length=24))  # Flux.1: the padding is attended
    with torch.no_grad():
        assert not torch.allclose(unmasked._predict(tokens[:1], sigma[:1], unmasked.encode_text([short])), outputs[0],
                                  atol=1e-4)
