#!/usr/bin/env python3
"""Trains RepDistiller's resnet8 on Fashion-MNIST in PyTorch and saves it as RepDistiller does
({'model': state_dict, 'epoch': E, 'accuracy': A}), for docs/import.md's end-to-end check:
crcd imports it as a teacher and must report the same test top-1.

Needs Debian's python3-torch and dataset-fashion-mnist; not used by any test.

    /usr/bin/python3 scripts/torch/fashion_teacher.py OUT.pth [EPOCHS]
"""
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'crcd-train', 'src', 'test', 'resources',
                                'torch-fixtures'))
from make_fixtures import create  # noqa: E402  (RepDistiller's networks)

ROOT = '/usr/share/datasets/fashion-mnist'


def idx(name, offset):
    with gzip.open(os.path.join(ROOT, name), 'rb') as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    out = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.manual_seed(0)
    torch.set_num_threads(2)
    xtr = idx('train-images-idx3-ubyte.gz', 16).reshape(-1, 1, 28, 28)
    ytr = idx('train-labels-idx1-ubyte.gz', 8).astype(np.int64)
    xte = idx('t10k-images-idx3-ubyte.gz', 16).reshape(-1, 1, 28, 28)
    yte = idx('t10k-labels-idx1-ubyte.gz', 8).astype(np.int64)
    f = xtr.astype(np.float32) / 255
    mean, std = float(f.mean()), float(f.std())  # crcd: train-split statistics of pixel/255
    print('mean %.6f std %.6f' % (mean, std))
    norm = lambda a: (torch.from_numpy(a.astype(np.float32)) / 255 - mean) / std
    xtr, xte = norm(xtr), norm(xte)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    net = create('resnet8', 10, in_ch=1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    steps = epochs * (len(xtr) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=steps)
    for e in range(epochs):
        net.train()
        perm = torch.randperm(len(xtr))
        for i in range(len(xtr) // 64):
            b = perm[i * 64:(i + 1) * 64]
            loss = F.cross_entropy(net(xtr[b]), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            pred = torch.cat([net(xte[i:i + 500]).argmax(1) for i in range(0, len(xte), 500)])
        acc = (pred == yte).float().mean().item() * 100
        print('epoch %d loss %.4f test top-1 %.2f%%' % (e + 1, loss.item(), acc), flush=True)
    torch.save({'model': net.state_dict(), 'epoch': epochs, 'accuracy': acc}, out)
    print('saved', out)


if __name__ == '__main__':
    main()
