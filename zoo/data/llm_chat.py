"""A transformers causal chat model answering one request at a time (greedy), by path or hub id.

Used by the LLM rewriter (`zoo.data.perturb_text.CausalLMRewriter`) and the LLM relation path
(`zoo.data.llm_relations`). With no checkpoint (tests, fresh machines) it is a tiny random Qwen2 over the offline
world tokenizer, whose answers are noise.
"""

from __future__ import annotations

from zoo.world.tokenizer import build_world_tokenizer


class CausalLMChat:
    """A causal LM that answers a user message.

    Args:
        pretrained: local path or hub id (e.g. Qwen/Qwen2.5-7B-Instruct); None builds a tiny random one (tests).
        max_new_tokens: length limit of the answer.
        trust_remote_code: off unless the checkpoint needs it.
        device: where the model runs.
    """

    def __init__(self, pretrained: str | None = None, max_new_tokens: int = 256, trust_remote_code: bool = False,
                 device: str = "cpu") -> None:
        import transformers

        self.max_new_tokens, self.device = max_new_tokens, device
        if pretrained is None:
            self.tokenizer = build_world_tokenizer()
            config = transformers.Qwen2Config(vocab_size=len(self.tokenizer), hidden_size=32, intermediate_size=64,
                                              num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
            self.model = transformers.Qwen2ForCausalLM(config).eval()
        else:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(pretrained, trust_remote_code=trust_remote_code)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                pretrained, trust_remote_code=trust_remote_code).eval()
        self.model.to(device)

    def chat(self, message: str) -> str:
        """The model's answer to one user message (chat template when the tokenizer has one)."""
        import torch

        if getattr(self.tokenizer, "chat_template", None):
            prompt = self.tokenizer.apply_chat_template([{"role": "user", "content": message}], tokenize=False,
                                                        add_generation_prompt=True)
        else:
            prompt = message + "\n"
        ids = self.tokenizer(prompt, return_tensors="pt").to(self.device)
        with torch.no_grad():
            out = self.model.generate(**ids, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
        return self.tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
