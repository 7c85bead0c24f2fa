"""FlowMatchingModule through Lightning: SFT steps, verified validation metrics, TensorBoard images, export."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger

from datamodules import PreferencePairDataModule
from modules.flow_matching import FlowMatchingModule, image_grid, verified
from zoo.data.images import read_image
from zoo.policy.flux import FluxPolicy, LoraSpec, TinyFlux
from zoo.world import PairSpec, make_pair


def test_verified_scores_renders_as_perfect_and_blank_as_zero():
    pairs = [make_pair(PairSpec(size=48), 0, "val", i) for i in range(4)]
    images = torch.stack([torch.from_numpy(p["chosen"]).permute(2, 0, 1).float() / 255 for p in pairs])
    metas = [p["json"] for p in pairs]
    relations = sum(len(m["relations"]) for m in metas)
    assert verified(images, metas) == {"relations": 1.0, "all_relations": 1.0, "objects_found": 1.0,
                                       "colour_found": 1.0, "clutter": 0.0, "relations_v1": 1.0,
                                       "placement": 1.0, "placement_n": relations}
    blank = verified(torch.ones_like(images), metas)
    assert blank["relations"] == 0.0 and blank["objects_found"] == 0.0
    assert image_grid(images, columns=2).shape == (3, 2 * 50, 2 * 50)


def test_sft_trains_validates_logs_images_and_exports(spatial_set, tmp_path):
    torch.manual_seed(0)
    module = FlowMatchingModule(FluxPolicy(tiny=TinyFlux(image_size=48)), lr=1e-3, val_steps=2, val_images=6,
                                export_dir=str(tmp_path / "policy"))
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"),
                                    val=str(spatial_set / "pairs" / "val-*.tar"), batch_size=4, eval_batch_size=4,
                                    train_samples_per_epoch=40)
    before = {k: v.clone() for k, v in module.policy.transformer.state_dict().items()}
    trainer = L.Trainer(max_steps=4, accelerator="cpu", logger=TensorBoardLogger(tmp_path, name="tb"),
                        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                        limit_val_batches=2, val_check_interval=4)
    trainer.fit(module, datamodule=data)
    metrics = trainer.callback_metrics
    assert {"sft/loss", "val/relations", "val/objects_found"} <= set(metrics)
    assert any(not torch.equal(v, before[k]) for k, v in module.policy.transformer.state_dict().items())
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    reloaded = FluxPolicy(tiny=TinyFlux(image_size=48))
    reloaded.load_transformer(tmp_path / "policy")
    for k, v in module.policy.transformer.state_dict().items():
        assert torch.equal(v, reloaded.transformer.state_dict()[k])


def test_sft_with_ema_validates_and_exports_the_averaged_weights(spatial_set, tmp_path):
    from callbacks import EMACallback

    torch.manual_seed(0)
    module = FlowMatchingModule(FluxPolicy(tiny=TinyFlux(image_size=48)), lr=1e-2, val_steps=2, val_images=4,
                                export_dir=str(tmp_path / "policy"))
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=2,
                                    train_samples_per_epoch=40)
    ema = EMACallback(decay=0.5, warmup=False)
    trainer = L.Trainer(max_steps=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, callbacks=[ema])
    trainer.fit(module, datamodule=data)
    exported = FluxPolicy(tiny=TinyFlux(image_size=48))
    exported.load_transformer(tmp_path / "policy")
    saved = exported.transformer.state_dict()
    trained = {f"policy.transformer.{k}": v for k, v in module.policy.transformer.state_dict().items()}
    averaged = [k for k in trained if k in ema.shadow and not torch.equal(ema.shadow[k], trained[k])]
    assert averaged  # the average differs from the last weights, and the export holds the average
    assert all(torch.equal(saved[k.removeprefix("policy.transformer.")], ema.shadow[k]) for k in averaged)


def test_zoo_policy_eval_builds_the_config_policy_loads_weights_and_writes_results(spatial_set, tmp_path):
    import json

    from zoo.cli import main
    from zoo.policy.io import build_policy

    config = tmp_path / "sft.yaml"
    config.write_text("model:\n  class_path: modules.FlowMatchingModule\n  init_args:\n    policy:\n"
                      "      class_path: zoo.policy.flux.FluxPolicy\n      init_args:\n"
                      "        tiny: {image_size: 32, pixel_factor: 2, identity_init: true}\n        guidance: 1.0\n")
    torch.manual_seed(1)
    trained = FluxPolicy(tiny=TinyFlux(image_size=32, pixel_factor=2, identity_init=True), guidance=1.0)
    trained.save(tmp_path / "policy")
    torch.manual_seed(2)  # a different random start: only the saved weights can make them equal
    loaded = build_policy(config, tmp_path / "policy")
    assert all(torch.equal(v, loaded.transformer.state_dict()[k]) for k, v in trained.transformer.state_dict().items())
    assert loaded.guidance == 1.0 and loaded.resolution == 32
    prompt = ["a red circle to the left of a blue square"]  # frozen random text encoders: the same in both
    assert torch.equal(trained.encode_text(prompt).prompt_embeds, loaded.encode_text(prompt).prompt_embeds)
    main(["policy", "eval", str(spatial_set / "prompts" / "test-*.tar"), "--experiment", str(config), "--weights",
          str(tmp_path / "policy"), "--count", "5", "--steps", "2", "--out", str(tmp_path / "eval")])
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert summary["prompts"] == 5 and 0.0 <= summary["objects_found"] <= 1.0
    assert len((tmp_path / "eval" / "samples.jsonl").read_text().splitlines()) == 5
    assert (tmp_path / "eval" / "samples.png").is_file()
    with pytest.raises(ValueError, match="no model.init_args.policy"):
        build_policy(_write(tmp_path / "bad.yaml", "trainer: {}\n"))


def _write(path, text):
    path.write_text(text)
    return path


def test_autoencoder_pretraining_exports_a_vae_that_a_latent_policy_loads_saves_and_reloads(spatial_set, tmp_path):
    from modules import AutoencoderModule

    torch.manual_seed(0)
    module = AutoencoderModule(channels=(8, 8), latent_channels=4, image_size=48, val_images=4,
                               export_dir=str(tmp_path / "vae"))
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"),
                                    val=str(spatial_set / "pairs" / "val-*.tar"), batch_size=2, eval_batch_size=4,
                                    train_samples_per_epoch=20)
    trainer = L.Trainer(max_steps=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, limit_val_batches=1,
                        val_check_interval=3)
    trainer.fit(module, datamodule=data)
    assert {"vae/loss", "val/recon_objects_found", "val/recon_clutter"} <= set(trainer.callback_metrics)
    config = json.loads((tmp_path / "vae" / "config.json").read_text())
    assert config["scaling_factor"] != 1.0 and (tmp_path / "vae" / "diffusion_pytorch_model.safetensors").is_file()

    tiny = TinyFlux(image_size=48, pixel_factor=0, vae_channels=(8, 8), vae_latent_channels=4,
                    vae_from=str(tmp_path / "vae"))
    policy = FluxPolicy(tiny=tiny)
    assert policy.latents.scale_factor == 2 and policy.image_seq_len == (48 // 2 // 2) ** 2
    trained = module.vae.state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in policy.pipe.vae.state_dict().items())
    images, _ = policy.generate(["a red circle"], [0], steps=2)
    assert images.shape == (1, 3, 48, 48)
    policy.save(tmp_path / "policy")  # the trained VAE goes with the policy
    from zoo.policy.io import load_weights

    fresh = FluxPolicy(tiny=TinyFlux(image_size=48, pixel_factor=0, vae_channels=(8, 8), vae_latent_channels=4))
    load_weights(fresh, tmp_path / "policy")
    assert all(torch.equal(v, trained[k]) for k, v in fresh.pipe.vae.state_dict().items())
    assert fresh.pipe.vae.config.scaling_factor == config["scaling_factor"]
    with pytest.raises(ValueError, match="vae_from: the autoencoder in .* does not fit"):
        FluxPolicy(tiny=TinyFlux(image_size=48, pixel_factor=0, vae_channels=(8, 8, 8), vae_latent_channels=4,
                                 vae_from=str(tmp_path / "vae")))
    assert not any(p.requires_grad for p in policy.pipe.vae.parameters())  # SFT and GRPO never move the VAE


def test_validation_images_reach_every_logger_not_only_tensorboard(spatial_set, tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    from modules.image_logging import log_image

    torch.manual_seed(0)
    module = FlowMatchingModule(FluxPolicy(tiny=TinyFlux(image_size=32, pixel_factor=2)), val_steps=1, val_images=2)
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"),
                                    val=str(spatial_set / "pairs" / "val-*.tar"), batch_size=2, eval_batch_size=2,
                                    train_samples_per_epoch=4)
    csv, tb = CSVLogger(tmp_path, name="csv"), TensorBoardLogger(tmp_path, name="tb")
    trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=[csv, tb], enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, limit_val_batches=1,
                        val_check_interval=1)
    trainer.fit(module, datamodule=data)
    saved = list((tmp_path / "csv").rglob("images/val_samples/step_*.png"))
    assert saved and read_image(saved[0]).size[0] > 32  # a grid, in the CSV logger's own folder
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert log_image([tb], "x", torch.zeros(3, 4, 4), 0) == ["TensorBoardLogger: add_image"]


def test_an_sft_checkpoint_holds_the_trainable_weights_only_and_resumes_exactly(spatial_set, tmp_path):
    def module():
        torch.manual_seed(0)
        return FlowMatchingModule(FluxPolicy(tiny=TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1),
                                             lora=LoraSpec(r=4, alpha=8)), lr=1e-2)

    def fit(root, steps, model, ckpt_path=None, callbacks=()):
        data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=4,
                                        train_samples_per_epoch=40)
        L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, enable_checkpointing=bool(callbacks), limit_val_batches=0,
                  default_root_dir=root, callbacks=list(callbacks)).fit(model, datamodule=data, ckpt_path=ckpt_path)

    straight = module()
    fit(tmp_path / "a", 4, straight)
    fit(tmp_path / "b", 2, module(), callbacks=[ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=2)])
    path = next((tmp_path / "ckpt").glob("*.ckpt"))
    saved = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert saved and all("lora_" in k for k in saved)  # not the frozen base, text encoders or VAE
    resumed = module()
    fit(tmp_path / "c", 4, resumed, ckpt_path=str(path))
    for (name, a), b in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(a, b), name
