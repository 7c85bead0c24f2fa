"""Reward-scoring preprocessing: policy tensors -> PIL -> Qwen image processor, against the batched tensor path.

    python benchmarks/reward_preprocess.py --images 32 --side 512 --out reward_preprocess.json

SpatialScore's processor settings of the paper's config (min 64, max 256 patches of 28^2, so 512^2 images
are resized to 448^2). Times the median of --iters runs after one warm-up of (a) `to_pil` + the image
processor, as `SpatialScoreReward(preprocess="pil")` does, and (b) `qwen_pixels` on the images' device
(`preprocess="tensor"`), on the CPU and, when there is one, on the GPU; prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
import transformers

from zoo.reward.tensor_images import qwen_pixels
from zoo.rl.rewards import to_pil


def _median(fn, iters: int, cuda: bool) -> float:
    fn()
    times = []
    for _ in range(iters):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench_out/reward_preprocess.json"))
    args = parser.parse_args(argv)
    processor = transformers.Qwen2VLImageProcessorPil(min_pixels=50176, max_pixels=200704, patch_size=14,
                                                      temporal_patch_size=2, merge_size=2)
    images = torch.rand(args.images, 3, args.side, args.side, generator=torch.Generator().manual_seed(0))
    rows = [{"path": "pil (to_pil + processor)", "device": "cpu",
             "seconds": _median(lambda: processor(images=to_pil(images), return_tensors="pt"), args.iters, False)},
            {"path": "tensor (qwen_pixels)", "device": "cpu",
             "seconds": _median(lambda: qwen_pixels(images, processor), args.iters, False)}]
    if torch.cuda.is_available():
        on_gpu = images.cuda()
        rows.append({"path": "tensor (qwen_pixels)", "device": torch.cuda.get_device_name(),
                     "seconds": _median(lambda: qwen_pixels(on_gpu, processor), args.iters, True)})
    base = rows[0]["seconds"]
    print(f"{args.images} images of {args.side}^2 -> {qwen_pixels(images[:1], processor)[1][0].tolist()} grid, "
          f"torch threads {torch.get_num_threads()}")
    print("| path | device | s per batch | images/s | speed-up vs pil |\n|---|---|---|---|---|")
    for r in rows:
        r.update(images_per_s=args.images / r["seconds"], speedup=base / r["seconds"])
        print(f"| {r['path']} | {r['device']} | {r['seconds']:.4f} | {r['images_per_s']:.0f} | {r['speedup']:.1f}x |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"images": args.images, "side": args.side, "rows": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
