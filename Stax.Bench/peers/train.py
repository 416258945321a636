#!/usr/bin/python3
"""torch CPU train-step peer: median ms of one Adam step (lr 1e-3), fp32, synthetic data.

  mlp: 784-512-512-10 ReLU, batch 128
  cnn: conv3x3(1->32) ReLU, conv3x3(32->64) ReLU, maxpool 2x2, flatten 9216 -> fc128 ReLU -> fc10,
       28x28x1 inputs (NCHW, valid convolutions), batch 64
  loss: F.log_softmax + F.nll_loss.  A step = zero_grad(set_to_none) + forward + loss + backward +
  optimizer.step(); the loss is read back (.item()), as the Stax step reads its loss.

  /usr/bin/python3 train.py --model mlp --threads 1 --steps 200
  /usr/bin/python3 train.py --model cnn --threads 2p --steps 100

--threads: N (N torch/OpenMP + N OpenBLAS threads), AxB (A torch, B OpenBLAS), trailing p =
OMP_WAIT_POLICY=PASSIVE.  Prints one line "PEER_RESULT {json}" with the median of --steps timed steps.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_env  # noqa: E402


def build(model_name, torch):
    nn = torch.nn
    if model_name == "mlp":
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        return model, 128, (784,)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10))
    return model, 64, (1, 28, 28)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["mlp", "cnn"], required=True)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()
    peer_env.ensure_env(args.threads, malloc=True)
    omp, blas, _ = peer_env.parse_threads(args.threads)

    import torch
    import torch.nn.functional as F
    torch.set_num_threads(omp)
    pools = peer_env.pin_pools(omp, blas)
    torch.manual_seed(0)
    model, batch, shape = build(args.model, torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    pool = 8
    xs = [torch.randn((batch,) + shape) for _ in range(pool)]
    ys = [torch.randint(0, 10, (batch,)) for _ in range(pool)]
    it = [0]

    def step():
        i = it[0] % pool
        it[0] += 1
        opt.zero_grad(set_to_none=True)
        loss = F.nll_loss(F.log_softmax(model(xs[i]), dim=1), ys[i])
        loss.backward()
        opt.step()
        return loss.item()

    ts = peer_env.time_calls(step, args.warmup, args.steps)
    res = {"peer": "torch", "version": torch.__version__, "model": args.model, "threads": args.threads,
           "torch_threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.enabled,
           "pools": pools, "env": peer_env.env_summary()}
    res.update(peer_env.stats_ms(ts))
    peer_env.emit(res)


if __name__ == "__main__":
    main()
