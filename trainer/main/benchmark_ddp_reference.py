#!/usr/bin/python3
"""Python DDP reference for //trainer:distributed_benchmark: one process of torch's DistributedDataParallel training
torchvision's mobilenet_v2 (80 classes, channels_last, SGD with momentum, BCEWithLogitsLoss) on random tensors,
Gloo backend, started by torchrun. The same step as benchmark_reference.py, under DDP.

After the warm-up steps every process measures, each phase started together (a barrier):
  1. --steps DDP steps (gradients averaged across processes during backward);
  2. --steps all-reduces (sum) of one tensor as large as all the gradients, nothing else running;
  3. --steps of the same step under ddp.no_sync() (no gradient reduction), after one unmeasured such step.
Rank 0 prints the group's figures (the largest over the processes; images/s over all of them):
  step_ms_synced, step_ms_unsynced, allreduce_ms, gradient_floats, images_per_second, peak_rss_mib, allocator.

  /usr/bin/python3 -m torch.distributed.run --nnodes 1 --nproc_per_node 2 --master_addr 127.0.0.1 \\
      --master_port 29500 --redirects 1 --tee 1 trainer/main/benchmark_ddp_reference.py --threads 1 --channels_last
"""
import argparse
import datetime
import faulthandler
import resource
import time

import torch
import torch.distributed as dist
import torchvision
from torch.nn.parallel import DistributedDataParallel


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_size", type=int, default=16, help="images per step in this process")
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--precision", choices=["fp32"], default="fp32")
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--collective_timeout_s", type=int, default=60)
    parser.add_argument("--time_limit_s", type=int, default=0, help="end the process after this long; 0: never")
    return parser.parse_args()


def allocator():
    with open("/proc/self/maps") as maps:
        return "tcmalloc" if "libtcmalloc" in maps.read() else "glibc"


def main():
    args = parse_args()
    if args.time_limit_s > 0:
        # Ends the process then, even if it hangs inside a collective, saying where every thread was.
        faulthandler.dump_traceback_later(args.time_limit_s, exit=True)
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=args.collective_timeout_s))
    torch.manual_seed(0)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = torchvision.models.mobilenet_v2(num_classes=80).to(memory_format=memory_format)
    model.train()
    # Gradients as views into the buckets, as ours (DDP's default copies them in and out of the buckets).
    ddp = DistributedDataParallel(model, gradient_as_bucket_view=True)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    criterion = torch.nn.BCEWithLogitsLoss()
    images = torch.randn(args.batch_size, 3, args.resolution, args.resolution)
    targets = (torch.rand(args.batch_size, 80) < 0.05).float()

    def step():
        optimizer.zero_grad(set_to_none=False)  # in place, as ours: the gradients are bucket views
        loss = criterion(ddp(images.contiguous(memory_format=memory_format)), targets)
        loss.backward()
        optimizer.step()

    def unsynced_step():
        with ddp.no_sync():  # forward and backward both inside: DDP decides in forward whether to reduce
            step()

    def timed_together(body):
        dist.barrier()
        start = time.perf_counter()
        for _ in range(args.steps):
            body()
        return time.perf_counter() - start

    for _ in range(args.warmup):
        step()
    synced = timed_together(step)

    gradient_floats = sum(p.numel() for p in model.parameters() if p.requires_grad)
    gradients = torch.ones(gradient_floats)
    for _ in range(2):
        dist.all_reduce(gradients)
    all_reduce = timed_together(lambda: dist.all_reduce(gradients))

    unsynced_step()  # unmeasured: the first no_sync step still broadcasts the buffers (decided by the step before)
    unsynced = timed_together(unsynced_step)

    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    mine = torch.tensor([synced, unsynced, all_reduce, peak_rss_mib], dtype=torch.float64)
    everyone = [torch.zeros_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(everyone, mine)
    slowest = torch.stack(everyone).max(dim=0).values.tolist()
    if dist.get_rank() == 0:
        print("step_ms_synced %.3f" % (1000 * slowest[0] / args.steps))
        print("step_ms_unsynced %.3f" % (1000 * slowest[1] / args.steps))
        print("allreduce_ms %.3f" % (1000 * slowest[2] / args.steps))
        print("gradient_floats %d" % gradient_floats)
        print("images_per_second %.3f" % (dist.get_world_size() * args.batch_size * args.steps / slowest[0]))
        print("peak_rss_mib %.1f" % slowest[3])
        print("allocator %s" % allocator(), flush=True)
    # Tear the group down while the tensors the collectives used are still referenced here. A Gloo worker thread
    # can still hold the last collective when it returns; if it then dropped the last reference to a Python tensor
    # it would need the GIL, which this thread holds while ~ProcessGroupGloo joins that worker: torch 1.13 deadlocks
    # there at exit (seen in about 1 run in 3, in the Reducer's destructor, when main()'s locals went away).
    del ddp  # the Reducer's reference to the group
    dist.destroy_process_group()  # the last one


if __name__ == "__main__":
    main()
