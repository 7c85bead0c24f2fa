"""RewardModule through Lightning: fit, export, test table, and resume with the same step and data position."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from datamodules import PreferencePairDataModule
from modules.reward import RewardModule
from zoo.reward.parts import TrainableParts
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
from zoo.reward.scorer import load

TINY = TinyQwenVL(image_size=48, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1, vision_hidden_size=32,
                  vision_layers=1, vision_heads=2)


class KeyLog(L.Callback):
    """Records the pair keys of every training batch and the step they were used at."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, list[str]]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.keys.append((trainer.global_step, list(batch["key"])))


def _data(spatial_set, workers=0):
    return PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"),
                                    val=str(spatial_set / "pairs" / "val-*.tar"),
                                    test=str(spatial_set / "pairs" / "test-*.tar"), batch_size=4, eval_batch_size=8,
                                    num_workers=workers, train_samples_per_epoch=40, shuffle_buffer=4, seed=5)


def _module(**kwargs):
    torch.manual_seed(0)
    return RewardModule(QwenVLBackbone(tiny=TINY), lr=1e-3, **kwargs)


def _trainer(tmp_path, max_steps, callbacks=(), **kwargs):
    return L.Trainer(max_steps=max_steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                     enable_model_summary=False, default_root_dir=tmp_path, callbacks=list(callbacks), **kwargs)


def test_fit_exports_a_scorer_and_test_and_validate_print_the_table(spatial_set, tmp_path, capsys):
    module = _module(export_dir=str(tmp_path / "scorer"), parts=TrainableParts(mode="full"))
    trainer = _trainer(tmp_path, 4, enable_checkpointing=False, limit_val_batches=1, val_check_interval=2)
    trainer.fit(module, datamodule=_data(spatial_set))
    assert trainer.global_step == 4 and (tmp_path / "scorer" / "scorer.json").exists()
    assert {"val/acc_overall", "train/loss"} <= set(trainer.callback_metrics)
    assert "| model |" not in capsys.readouterr().out  # validation during fit does not print the table
    trainer.test(module, datamodule=_data(spatial_set))
    printed = capsys.readouterr().out
    assert "| model | 1 Pert. | 2-3 Pert. | Overall |" in printed and "(pairs: 40)" in printed
    trainer.validate(module, datamodule=_data(spatial_set))  # `zoo validate` prints it for the val pairs
    printed = capsys.readouterr().out
    assert "| model | 1 Pert. | 2-3 Pert. | Overall |" in printed and "(pairs: 8)" in printed  # limit_val_batches=1
    scorer = load(tmp_path / "scorer")
    assert scorer.meta["weights"] == "full"


@pytest.mark.parametrize("workers,stop,mode", [(2, 3, "full"), (0, 10, "lora")])  # 10 batches per epoch: its end
def test_resumed_run_continues_with_the_same_step_data_and_weights(spatial_set, tmp_path, workers, stop, mode):
    parts = TrainableParts(mode=mode, lora_r=4, lora_alpha=8)
    straight, straight_module = KeyLog(), _module(parts=parts)
    _trainer(tmp_path / "a", 14, [straight], enable_checkpointing=False, limit_val_batches=0).fit(
        straight_module, datamodule=_data(spatial_set, workers))
    from lightning.pytorch.callbacks import ModelCheckpoint
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=stop, save_top_k=-1)
    first = KeyLog()
    _trainer(tmp_path / "b", stop, [first, ckpt], limit_val_batches=0).fit(_module(parts=parts),
                                                                           datamodule=_data(spatial_set, workers))
    path = next((tmp_path / "ckpt").glob(f"*step={stop}*.ckpt"))
    saved = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    trainable = {n for n, p in straight_module.named_parameters() if p.requires_grad}
    assert set(saved) == trainable  # LoRA: the frozen backbone stays out of the checkpoint
    assert mode == "full" or (all("lora_" in k or "head" in k or "reward_token" in k for k in saved)
                              and len(trainable) < len(torch.nn.Module.state_dict(straight_module)))
    second, resumed = KeyLog(), _module(parts=parts)
    trainer = _trainer(tmp_path / "c", 14, [second], limit_val_batches=0, enable_checkpointing=False)
    trainer.fit(resumed, datamodule=_data(spatial_set, workers), ckpt_path=str(path))
    assert trainer.global_step == 14
    assert first.keys + second.keys == straight.keys
    for (name, a), b in zip(straight_module.named_parameters(), resumed.parameters()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_hard_negatives_erase_one_object_or_add_clutter_in_training_pairs_only(spatial_set, tmp_path):
    import numpy as np

    from zoo.reward.negatives import HardNegatives
    from zoo.world import Scene, verify

    data = _data(spatial_set)
    pairs = [s for batch, _ in zip(data.train_dataloader(), range(3)) for s in _raw(batch)]
    swapped = HardNegatives(missing_object=1.0)(pairs)
    for before, after in zip(pairs, swapped):
        verdict = verify(np.array(after["rejected"].convert("RGB")), Scene.from_json(before["meta"]))
        assert sum(not o.found for o in verdict.objects) == 1 and after["meta"]["negative"].startswith("missing")
        assert after["chosen"] is before["chosen"] and after["prompt"] == before["prompt"]
    for before, after in zip(pairs, HardNegatives(wrong_shape=1.0)(pairs)):  # one object redrawn as another shape
        verdict = verify(np.array(after["rejected"].convert("RGB")), Scene.from_json(before["meta"]))
        index = int(after["meta"]["negative"].split()[-1])
        assert after["meta"]["negative"].startswith("wrong shape") and not verdict.objects[index].found
        assert verdict.objects[index].colour_found and verdict.objects[index].shape != before["meta"]["objects"][index]["shape"]
    twice = [(b, a) for b, a in zip(pairs, HardNegatives(duplicate=1.0)(pairs)) if "negative" in a["meta"]]
    assert len(twice) >= len(pairs) // 2  # a free place is found in most scenes
    for before, after in twice:  # one object drawn again in an empty place: all found, the copy is clutter
        verdict = verify(np.array(after["rejected"].convert("RGB")), Scene.from_json(before["meta"]))
        changed = np.array(after["rejected"]) != np.array(before["chosen"].convert("RGB"))
        assert after["meta"]["negative"].startswith("duplicate") and all(o.found for o in verdict.objects)
        assert verdict.clutter > 0 and changed.any(-1).any()
    mixed = HardNegatives(missing_object=0.3, clutter=0.3)
    kinds = [s["meta"].get("negative", "none").split(" ")[0] for s in mixed(pairs)]
    assert kinds == [s["meta"].get("negative", "none").split(" ")[0] for s in mixed(pairs)]  # per key: resumable
    assert {"missing", "clutter", "none"} == set(kinds)
    for before, after, kind in zip(pairs, mixed(pairs), kinds):
        if kind == "clutter":  # every object still there, specks of palette colours added on white
            verdict = verify(np.array(after["rejected"].convert("RGB")), Scene.from_json(before["meta"]))
            changed = np.array(after["rejected"]) != np.array(before["chosen"].convert("RGB"))
            assert all(o.found for o in verdict.objects) and changed.any(-1).mean() > 0.01
    module = _module(missing_object_negatives=0.25, clutter_negatives=0.25)
    _trainer(tmp_path, 1, limit_val_batches=0, enable_checkpointing=False).fit(module, datamodule=data)
    assert data.train_collate_fn.negatives.clutter == 0.25 and data.collate_fn.negatives is None


def test_adjacent_duplicates_touch_the_original_and_leave_the_other_negatives_as_they_were(spatial_set):
    import numpy as np

    from zoo.reward.negatives import HardNegatives, _boxes
    from zoo.world import Scene, verify

    pairs = [s for batch, _ in zip(_data(spatial_set).train_dataloader(), range(3)) for s in _raw(batch)]
    near = [(b, a) for b, a in zip(pairs, HardNegatives(duplicate=1.0, adjacent=1.0)(pairs)) if "negative" in a["meta"]]
    assert len(near) >= len(pairs) // 2  # a free place next to the object in most scenes
    cluttered = 0
    for before, after in near:
        assert after["meta"]["negative"].startswith("adjacent duplicate")
        verdict = verify(np.array(after["rejected"].convert("RGB")), Scene.from_json(before["meta"]))
        assert all(o.found for o in verdict.objects)
        cluttered += verdict.clutter > 0  # not all: a copy that shares an edge merges with the original's region
        changed = (np.array(after["rejected"]) != np.array(before["chosen"].convert("RGB"))).any(-1)
        ys, xs = changed.nonzero()
        x0, y0, x1, y1 = _boxes(before["meta"], changed.shape[0])[int(after["meta"]["negative"].split()[-1])]
        # every changed pixel lies in the ring of boxes around the original (the copy touches it)
        assert ys.min() >= y0 - (y1 - y0) and ys.max() < y1 + (y1 - y0)
        assert xs.min() >= x0 - (x1 - x0) and xs.max() < x1 + (x1 - x0)
    assert 0 < cluttered < len(near)  # the diagonal copies are clutter; most edge-sharing ones merge
    off = HardNegatives(duplicate=0.3, missing_object=0.2)(pairs)  # the option changes only where duplicates go
    on = HardNegatives(duplicate=0.3, missing_object=0.2, adjacent=1.0)(pairs)
    kinds = [a["meta"].get("negative", "none").split()[0] for a in off]
    assert {"missing", "duplicate"} <= set(kinds)
    for before, after, kind in zip(off, on, kinds):
        if kind == "missing":  # the same pairs chosen and the same random draws: an identical negative
            assert after["meta"]["negative"] == before["meta"]["negative"]
            assert np.array_equal(np.array(after["rejected"]), np.array(before["rejected"]))
        elif kind == "duplicate":
            assert after["meta"].get("negative", "adjacent").startswith("adjacent")  # unless no place touches it


def _raw(batch):
    """Pair samples back from a default-collated batch (prompt, chosen, rejected, meta per pair)."""
    return [{"key": k, "prompt": p, "chosen": c, "rejected": r, "meta": m, "n_perturbations": n}
            for k, p, c, r, m, n in zip(batch["key"], batch["prompt"], batch["chosen"], batch["rejected"],
                                        batch["meta"], batch["n_perturbations"])]
