#!/usr/bin/env python3
"""PyTorch-eager peer of crcd's step benchmark (crcd-bench StepBench): the same training steps,
written from the CRCD paper (Zhu et al., CVPR 2021, Sec. 3) and RepDistiller (models/resnet.py,
distiller_zoo/KD.py, crd/criterion.py, crd/memory.py, dataset/cifar100.py), not from crcd's Java.

One step = what RepDistiller's train_distill does for one batch: teacher forward under no_grad in
eval mode (not for vanilla), student forward in train mode, the weighted loss terms, backward, one
SGD update (lr 0.05, momentum 0.9, weight decay 5e-4) of the student and the method's modules,
then the method's buffer update; the clock stops after the loss terms are read back (.tolist()).

Methods (the recipes of crcd's StepBench.DEFAULT_METHODS):
  vanilla  CE                                   (no teacher forward)
  KD       0.1 CE + 0.9 KD(T=4)                 (RepDistiller -r 0.1 -a 0.9)
  CRD+KD   CE + KD(T=4) + 0.8 CRD               (feat 128, K 16384, tau 0.07, momentum 0.5, n_data)
  FRCD     CE + KD(T=4) + 0.5 RC^f              (Eq. 17 with beta2 = 0)
  GRCD     CE + KD(T=4) + 0.5 RC^g              (beta1 = 0)
  CRCD     CE + KD(T=4) + 0.5 RC^f + 0.5 RC^g   (Eq. 17; R 256, C 128, tau 0.05, N 500 queue)

Two modes:
  peer_step.py --rounds 20 --warmup 5            run alone, one JSON line per method at the end
  peer_step.py --serve                           driven over stdin by crcd's `SuiteMain peer`:
      {"cmd": "step", "method": "KD"}          -> {"method": "KD", "ms": 231.4, "loss": 5.1}
      {"cmd": "check", ...}                    -> the peer's KD and RC values for given inputs
      {"cmd": "quit"}
Every answer is one JSON line on stdout; the first line describes the peer (torch version,
threads, BLAS library). Needs Debian's python3-torch; not used by any test.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

METHODS = ['vanilla', 'KD', 'CRD+KD', 'CRCD', 'FRCD', 'GRCD']


# ---------------------------------------------------------------------------------------------
# RepDistiller's CIFAR ResNet (models/resnet.py): 3x3 stem 16 + BN + ReLU, post-activation basic
# blocks, 1x1 conv + BN shortcut on a shape change, 8x8 average pool, linear classifier.
# ---------------------------------------------------------------------------------------------
def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return F.relu(out + residual)


class ResNet(nn.Module):
    def __init__(self, depth, filters, classes, in_ch=3):
        super().__init__()
        n = (depth - 2) // 6
        self.inplanes = filters[0]
        self.conv1 = nn.Conv2d(in_ch, filters[0], kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(filters[0])
        self.layer1 = self._make_layer(filters[1], n)
        self.layer2 = self._make_layer(filters[2], n, stride=2)
        self.layer3 = self._make_layer(filters[3], n, stride=2)
        self.fc = nn.Linear(filters[3], classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        """Returns (pooled feature (B, D), logits (B, classes))."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        feat = F.avg_pool2d(x, x.shape[-1]).flatten(1)  # (B, D), RepDistiller's feat[-1]
        return feat, self.fc(feat)


def resnet(name, classes, in_ch=3):
    depth = int(name[len('resnet'):])
    return ResNet(depth, [16, 16, 32, 64], classes, in_ch)


# ---------------------------------------------------------------------------------------------
# KD (distiller_zoo/KD.py)
# ---------------------------------------------------------------------------------------------
def kd_loss(y_s, y_t, T):
    p_s = F.log_softmax(y_s / T, dim=1)
    p_t = F.softmax(y_t / T, dim=1)
    return F.kl_div(p_s, p_t, reduction='sum') * (T ** 2) / y_s.shape[0]


# ---------------------------------------------------------------------------------------------
# CRD (crd/criterion.py, crd/memory.py; contrast indices as dataset/cifar100.py's
# CIFAR100InstanceSample with mode 'exact': the sample itself, then K samples of other classes
# without replacement). RepDistiller draws them in the data loader's workers; here they are drawn
# inside the step, as crcd's step does, so that both measure the same work.
# ---------------------------------------------------------------------------------------------
class Embed(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.linear = nn.Linear(dim_in, dim_out)

    def forward(self, x):
        x = self.linear(x.view(x.shape[0], -1))
        return x.div(x.pow(2).sum(1, keepdim=True).pow(0.5))


class CRD(nn.Module):
    EPS = 1e-7

    def __init__(self, s_dim, t_dim, dataset_labels, feat_dim=128, k=16384, t=0.07, momentum=0.5):
        super().__init__()
        self.embed_s = Embed(s_dim, feat_dim)
        self.embed_t = Embed(t_dim, feat_dim)
        self.n_data = len(dataset_labels)
        self.k, self.t, self.momentum = k, t, momentum
        self.z_v1 = self.z_v2 = -1.0
        stdv = 1. / math.sqrt(feat_dim / 3)
        self.register_buffer('memory_v1', torch.rand(self.n_data, feat_dim).mul_(2 * stdv).add_(-stdv))
        self.register_buffer('memory_v2', torch.rand(self.n_data, feat_dim).mul_(2 * stdv).add_(-stdv))
        classes = int(dataset_labels.max()) + 1
        self.cls_negative = [torch.nonzero(dataset_labels != c).flatten() for c in range(classes)]

    def contrast_indices(self, idx, y):
        rows = []
        for i, c in zip(idx.tolist(), y.tolist()):
            neg = self.cls_negative[c]
            pick = torch.randperm(len(neg))[:self.k] if self.k <= len(neg) \
                else torch.randint(len(neg), (self.k,))
            rows.append(torch.cat([torch.tensor([i]), neg[pick]]))
        return torch.stack(rows)  # (B, K + 1)

    def contrast_loss(self, x):
        bsz, m = x.shape[0], x.size(1) - 1
        pn = 1 / float(self.n_data)
        p_pos = x.select(1, 0)
        log_d1 = torch.div(p_pos, p_pos.add(m * pn + self.EPS)).log_()
        p_neg = x.narrow(1, 1, m)
        log_d0 = torch.div(p_neg.clone().fill_(m * pn), p_neg.add(m * pn + self.EPS)).log_()
        return -(log_d1.sum(0) + log_d0.view(-1, 1).sum(0)) / bsz

    def forward(self, f_s, f_t, idx, y):
        v1, v2 = self.embed_s(f_s), self.embed_t(f_t)  # (B, F) each
        contrast_idx = self.contrast_indices(idx, y)  # (B, K + 1)
        b, f = v1.shape
        w1 = torch.index_select(self.memory_v1, 0, contrast_idx.view(-1)).detach().view(b, -1, f)
        out_v2 = torch.exp(torch.div(torch.bmm(w1, v2.view(b, f, 1)), self.t))  # (B, K + 1, 1)
        w2 = torch.index_select(self.memory_v2, 0, contrast_idx.view(-1)).detach().view(b, -1, f)
        out_v1 = torch.exp(torch.div(torch.bmm(w2, v1.view(b, f, 1)), self.t))
        if self.z_v1 < 0:
            self.z_v1 = out_v1.mean().item() * self.n_data
        if self.z_v2 < 0:
            self.z_v2 = out_v2.mean().item() * self.n_data
        out_v1 = torch.div(out_v1, self.z_v1).contiguous()
        out_v2 = torch.div(out_v2, self.z_v2).contiguous()
        with torch.no_grad():  # memory update, as ContrastMemory.forward
            for mem, v in ((self.memory_v1, v1), (self.memory_v2, v2)):
                pos = torch.index_select(mem, 0, idx.view(-1)).mul_(self.momentum)
                pos.add_(torch.mul(v, 1 - self.momentum))
                mem.index_copy_(0, idx, pos.div(pos.pow(2).sum(1, keepdim=True).pow(0.5)))
        return self.contrast_loss(out_v1) + self.contrast_loss(out_v2)


# ---------------------------------------------------------------------------------------------
# CRCD (paper Sec. 3): elements, relation networks M (Eq. 10, 11), critic (Eq. 15), pairs and
# negatives (Sec. 3.3), relation contrastive loss (Eq. 9), queue buffer (Fig. 4), objective Eq. 17.
# ---------------------------------------------------------------------------------------------
class RelationHead(nn.Module):
    """h(M(a, b)) = normalise(V relu(W_i a - W_j b) ... ): relation network then linear critic.

    M(a, b) = W relu(W_i a + b_i - W_j b) + c (Eq. 10/11; one bias before the ReLU: W_i a + b_i -
    (W_j b + b_j) has one effective bias), critic h = normalise(V r + e) (Eq. 15, linear, C-d).
    With fold=True the two linear maps after the ReLU run as one (R, C) map: V (W x + c) + e =
    (V W) x + (V c + e), the same value (exact algebra), so the (B, B+N, R) hidden relations meet
    one R x C product instead of R x R then R x C.
    """

    def __init__(self, dim_a, dim_b, rel_dim, critic_dim, fold):
        super().__init__()
        self.w_i = nn.Linear(dim_a, rel_dim)
        self.w_j = nn.Linear(dim_b, rel_dim, bias=False)
        self.w = nn.Linear(rel_dim, rel_dim)
        self.critic = nn.Linear(rel_dim, critic_dim)
        self.fold = fold

    def forward(self, a, b):
        """a (P, Da) anchors, b (Q, Db) samples -> (P, Q, C) unit vectors."""
        hidden = F.relu(self.w_i(a)[:, None, :] - self.w_j(b)[None, :, :])  # (P, Q, R)
        if self.fold:
            weight = self.critic.weight @ self.w.weight  # (C, R)
            bias = self.critic.weight @ self.w.bias + self.critic.bias  # (C)
            out = F.linear(hidden, weight, bias)  # (P, Q, C)
        else:
            out = self.critic(self.w(hidden))  # (P, Q, C)
        return F.normalize(out, dim=-1)


def rc_loss(u, v_pos, v_neg, tau):
    """Eq. 9 with h = exp((u.v - 1)/tau): -log h(u, v+) - sum_k log(1 - h(u, v-_k)), mean over pairs.

    u, v_pos (B, M, C); v_neg (B, N, C) negatives of anchor i shared by every j (N may be 0)."""
    s_pos = (u * v_pos).sum(-1).clamp(max=1.0)  # (B, M)
    loss = -(s_pos - 1) / tau
    if v_neg is not None and v_neg.shape[1] > 0:
        s_neg = torch.bmm(u, v_neg.transpose(1, 2)).clamp(max=1.0)  # (B, M, N)
        log_1mh = torch.log(torch.clamp(-torch.expm1((s_neg - 1) / tau), min=1e-7))
        loss = loss - log_1mh.sum(-1)
    return loss.mean()


class Queue:
    """The N most recent student representations (no gradient), FIFO; only filled entries are read."""

    def __init__(self, n, dim):
        self.data = torch.zeros(n, dim)
        self.filled = 0
        self.ptr = 0

    def entries(self):
        return self.data[:self.filled]

    def push(self, x):
        rows = x.detach()[-self.data.shape[0]:]  # (k, D), k <= N
        n, k = self.data.shape[0], rows.shape[0]
        self.data[(self.ptr + torch.arange(k)) % n] = rows  # replaces the oldest entries
        self.ptr = (self.ptr + k) % n
        self.filled = min(n, self.filled + k)


class RelationElement(nn.Module):
    """One element (feature or gradient): M^T with h1, M^{T,S} with h2, the queue of negatives."""

    def __init__(self, t_dim, s_dim, rel_dim, critic_dim, negatives, tau, fold):
        super().__init__()
        self.m_t = RelationHead(t_dim, t_dim, rel_dim, critic_dim, fold)  # h1(M^T(t_i, t_j))
        self.m_ts = RelationHead(t_dim, s_dim, rel_dim, critic_dim, fold)  # h2(M^{T,S}(t_i, .))
        self.queue = Queue(negatives, s_dim)
        self.tau = tau

    def forward(self, t, s):
        b = s.shape[0]
        u = self.m_t(t, t)  # (B, B, C)
        v = self.m_ts(t, torch.cat([s, self.queue.entries()]))  # (B, B + n, C)
        return rc_loss(u, v[:, :b], v[:, b:], self.tau)


class CRCD(nn.Module):
    def __init__(self, t_dim, s_dim, feature, gradient, rel_dim=256, critic_dim=128, negatives=500,
                 tau=0.05, fold=True):
        super().__init__()
        self.feature = RelationElement(t_dim, s_dim, rel_dim, critic_dim, negatives, tau, fold) \
            if feature else None
        self.gradient = RelationElement(t_dim, s_dim, rel_dim, critic_dim, negatives, tau, fold) \
            if gradient else None
        self.pending = []

    def forward(self, feat_s, ce_s, feat_t, fc_t, y):
        """Returns {'rc_feature': L_RC^f, 'rc_gradient': L_RC^g}; remembers the queue updates."""
        terms = {}
        self.pending = []
        if self.feature is not None:  # Eq. 12: f = normalised pooled feature
            f_s, f_t = F.normalize(feat_s, dim=1), F.normalize(feat_t, dim=1)
            terms['rc_feature'] = self.feature(f_t, f_s)
            self.pending.append((self.feature.queue, f_s))
        if self.gradient is not None:  # Eq. 13: g = dL_cls/df, double-backward through it
            g_s = torch.autograd.grad(ce_s, feat_s, create_graph=True)[0]  # (B, Ds)
            with torch.enable_grad():
                ft = feat_t.detach().requires_grad_(True)
                g_t = torch.autograd.grad(F.cross_entropy(fc_t(ft), y), ft)[0]  # (B, Dt)
            g_s, g_t = F.normalize(g_s, dim=1), F.normalize(g_t, dim=1)
            terms['rc_gradient'] = self.gradient(g_t, g_s)
            self.pending.append((self.gradient.queue, g_s))
        return terms

    def after_step(self):
        for queue, x in self.pending:
            queue.push(x)
        self.pending = []


# ---------------------------------------------------------------------------------------------
# The steps
# ---------------------------------------------------------------------------------------------
class Rig:
    """One method: its student, modules, optimiser and buffers; the teacher is shared."""

    def __init__(self, label, teacher, args, dataset_labels):
        self.label = label
        self.teacher = teacher
        self.student = resnet(args.student, args.classes, args.channels).train()
        if args.channels_last:
            self.student = self.student.to(memory_format=torch.channels_last)
        t_dim, s_dim = teacher.fc.in_features, self.student.fc.in_features
        self.ce_w, self.kd_w, self.crd_w, self.rc_w = 1.0, 0.0, 0.0, 0.5
        self.crd = self.crcd = None
        if label == 'KD':
            self.ce_w, self.kd_w = 0.1, 0.9
        elif label == 'CRD+KD':
            self.kd_w, self.crd_w = 1.0, 0.8
            self.crd = CRD(s_dim, t_dim, dataset_labels)
        elif label in ('CRCD', 'FRCD', 'GRCD'):
            self.kd_w = 1.0
            self.crcd = CRCD(t_dim, s_dim, label != 'GRCD', label != 'FRCD', fold=not args.unfolded)
        elif label != 'vanilla':
            raise ValueError('unknown method ' + label)
        params = list(self.student.parameters())
        for m in (self.crd, self.crcd):
            if m is not None:
                params += list(m.parameters())
        self.opt = torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=5e-4)

    def step(self, x, y, idx):
        """One training step; returns the weighted loss terms as floats (CE first)."""
        feat_t = logit_t = None
        if self.label != 'vanilla':
            with torch.no_grad():
                feat_t, logit_t = self.teacher(x)
        feat_s, logit_s = self.student(x)
        ce = F.cross_entropy(logit_s, y)
        terms = [self.ce_w * ce]
        if self.kd_w > 0:
            terms.append(self.kd_w * kd_loss(logit_s, logit_t, 4.0))
        if self.crd is not None:
            terms.append(self.crd_w * self.crd(feat_s, feat_t, idx, y))
        if self.crcd is not None:
            for v in self.crcd(feat_s, ce, feat_t, self.teacher.fc, y).values():
                terms.append(self.rc_w * v)
        stacked = torch.stack([t.reshape(()) for t in terms])
        self.opt.zero_grad(set_to_none=True)
        stacked.sum().backward()
        self.opt.step()
        if self.crcd is not None:
            self.crcd.after_step()
        return stacked.detach().tolist()


def blas_library():
    """The BLAS shared library this process loaded (torch's matmuls go through it)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line.lower() and '.so' in line}
        return ', '.join(sorted(libs)) or 'none'
    except OSError:
        return 'unknown'


def check(req):
    """The peer's KD and RC values for given inputs (compared with crcd's by SuiteMain peer)."""
    d = torch.float64
    s = torch.tensor(req['student_logits'], dtype=d)
    t = torch.tensor(req['teacher_logits'], dtype=d)
    u = torch.tensor(req['u'], dtype=d)
    vp = torch.tensor(req['v_pos'], dtype=d)
    vn = torch.tensor(req['v_neg'], dtype=d)
    return {'kd': kd_loss(s, t, float(req['temperature'])).item(),
            'rc': rc_loss(u, vp, vn, float(req['tau'])).item()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--teacher', default='resnet56')
    p.add_argument('--student', default='resnet20')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--classes', type=int, default=100)
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--dataset-size', type=int, default=50000)
    p.add_argument('--methods', default=','.join(METHODS))
    p.add_argument('--threads', type=int, default=torch.get_num_threads())
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--rounds', type=int, default=20)
    p.add_argument('--unfolded', action='store_true',
                   help='run the critic after M as two linear maps (default: folded into one)')
    p.add_argument('--channels-last', action='store_true',
                   help='networks and inputs in torch.channels_last memory format (default: NCHW)')
    p.add_argument('--profile', default=None,
                   help='write a Chrome trace of the first two timed rounds to this file')
    p.add_argument('--serve', action='store_true', help='take commands on stdin (JSON lines)')
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.autograd.set_detect_anomaly(False)
    torch.manual_seed(args.seed)
    dataset_labels = torch.randint(args.classes, (args.dataset_size,))
    teacher = resnet(args.teacher, args.classes, args.channels).eval()
    if args.channels_last:  # PyTorch's CPU performance advice; crcd's networks do the same
        teacher = teacher.to(memory_format=torch.channels_last)
    for q in teacher.parameters():
        q.requires_grad_(False)
    labels = [m.strip() for m in args.methods.split(',') if m.strip()]
    rigs = {m: Rig(m, teacher, args, dataset_labels) for m in labels}
    pool = []  # a pool of 4 input batches, as crcd's StepBench
    for _ in range(4):
        x = torch.randn(args.batch, args.channels, args.size, args.size)  # (B, C, H, W)
        if args.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        idx = torch.randint(args.dataset_size, (args.batch,))
        pool.append((x, dataset_labels[idx].clone(), idx))
    counter = [0]

    def timed(m):
        x, y, idx = pool[counter[0] % len(pool)]
        counter[0] += 1
        t0 = time.perf_counter()
        terms = rigs[m].step(x, y, idx)
        ms = (time.perf_counter() - t0) * 1000
        loss = sum(terms)
        if not math.isfinite(loss):
            raise SystemExit('peer_step.py: %s: loss is %s (terms %s)' % (m, loss, terms))
        return {'method': m, 'ms': ms, 'loss': loss}

    info = {'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
            'interop_threads': torch.get_num_interop_threads(), 'blas': None,
            'python': sys.version.split()[0], 'methods': labels, 'folded': not args.unfolded,
            'channels_last': args.channels_last}
    torch.ones(8, 8) @ torch.ones(8, 8)  # loads the BLAS
    info['blas'] = blas_library()
    print(json.dumps(info), flush=True)
    if args.serve:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            if req['cmd'] == 'quit':
                break
            out = timed(req['method']) if req['cmd'] == 'step' else check(req)
            print(json.dumps(out), flush=True)
        return
    times = {m: [] for m in labels}
    prof = None
    for r in range(args.warmup + args.rounds):
        if args.profile and r == args.warmup:
            prof = torch.autograd.profiler.profile(record_shapes=True)
            prof.__enter__()
        if prof is not None and r == args.warmup + 2:
            prof.__exit__(None, None, None)
            prof.export_chrome_trace(args.profile)
            prof = None
        for k in range(len(labels)):
            m = labels[(k + r) % len(labels)]  # rotated order, as StepBench
            res = timed(m)
            if r >= args.warmup:
                times[m].append(res['ms'])
    for m in labels:
        t = sorted(times[m])

        def q(f):  # linear interpolation between order statistics, as StepBench.percentile
            pos = f * (len(t) - 1)
            lo, hi = math.floor(pos), math.ceil(pos)
            return t[lo] + (t[hi] - t[lo]) * (pos - lo)

        print(json.dumps({'method': m, 'median_ms': q(0.5), 'p25_ms': q(0.25), 'p75_ms': q(0.75),
                          'steps': len(t)}), flush=True)


if __name__ == '__main__':
    main()
