#!/usr/bin/python3
"""PyTorch reference for FtInitStageReferenceTest: RepDistiller's FT init stage
(helper/pretrain.py init(), distill 'factor': paraphraser alone on nn.MSELoss()(rec, feat_t[-2]),
optim.SGD(lr, momentum 0.9, weight_decay 5e-4); models/util.py Paraphraser(k=0.5, use_bn=False))
on fixed inputs, in float32 as crcd trains.

Weights and teacher features come from an integer hash that the Java test computes identically
(no random generator is shared), so only the loss trajectories are printed, as Java array
literals to paste into the test:

    /usr/bin/python3 crcd-train/src/test/resources/ft-init/ft_init_reference.py

The teacher features are post-ReLU maps of 64 channels (as resnet8's last stage) with a few loud
channels, mean square about 42: on this batch of 2 the reference diverges at lr 0.01 within 30
steps and falls at 0.003 (EveryMethodTrainsTest's briefly trained teacher, mean square 8.6 on
batches of 25 at 7x7, makes RepDistiller's init diverge the same way; see docs/zoo/ft.md).
"""
import torch
import torch.nn as nn

C, B, H, K, STEPS = 64, 2, 4, 4, 30
SCALE = 4.0
GAIN = 6.0


def u(i, salt):
    """A uniform number in [0, 1) from an integer hash (the Java test's Hash.u)."""
    h = (i * 2654435761 + salt * 40503 + 12345) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 73244475) & 0xFFFFFFFF
    h ^= h >> 16
    return h / 4294967296.0


def uniform(n, salt, bound):
    return torch.tensor([bound * (2 * u(i, salt) - 1) for i in range(n)], dtype=torch.float64)


def feature(k):
    """Batch k, (B, C, H, H): relu(SCALE (u1 + u2 + u3 - 1.2)) times a channel gain 1 + GAIN u^4
    (a few loud channels, as ResNet stages have)."""
    n = B * C * H * H
    s = 100 + 3 * k
    v = []
    for i in range(n):
        gain = 1 + GAIN * u((i // (H * H)) % C, 7) ** 4
        v.append(max(0.0, SCALE * (u(i, s) + u(i, s + 1) + u(i, s + 2) - 1.2)) * gain)
    return torch.tensor(v, dtype=torch.float64).float().reshape(B, C, H, H)


class Paraphraser(nn.Module):
    """models/util.py Paraphraser(t_shape, k=0.5, use_bn=False)."""

    def __init__(self, in_channel, k=0.5):
        super().__init__()
        out_channel = int(in_channel * k)
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channel, in_channel, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(in_channel, out_channel, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(out_channel, out_channel, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(out_channel, out_channel, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.ConvTranspose2d(out_channel, in_channel, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.ConvTranspose2d(in_channel, in_channel, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True))

    def forward(self, f_s):
        factor = self.encoder(f_s)
        return factor, self.decoder(factor)


def paraphraser():
    """Weights as U(+-1/sqrt(fan_in)) (PyTorch's default ranges), salt = layer index; the values
    are drawn in crcd's layout: conv (out, in, 3, 3); the decoder's stride-1 transposed convs are
    crcd convs with weight w, i.e. PyTorch ConvTranspose2d weight w.transpose(0, 1).flip(2, 3)."""
    p = Paraphraser(C)
    layers = [p.encoder[0], p.encoder[2], p.encoder[4], p.decoder[0], p.decoder[2], p.decoder[4]]
    with torch.no_grad():
        for idx, m in enumerate(layers):
            transposed = isinstance(m, nn.ConvTranspose2d)
            cin, cout = (m.weight.shape[0], m.weight.shape[1]) if transposed else (
                m.weight.shape[1], m.weight.shape[0])
            fan_in = (cout if transposed else cin) * 9
            bound = fan_in ** -0.5
            w = uniform(cout * cin * 9, 2 * idx, bound).reshape(cout, cin, 3, 3)
            if transposed:
                w = w.transpose(0, 1).flip(2, 3)
            m.weight.copy_(w.float())
            m.bias.copy_(uniform(cout, 2 * idx + 1, bound).float())
    return p


def trajectory(lr):
    p = paraphraser()
    opt = torch.optim.SGD(p.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    feats = [feature(k) for k in range(K)]
    out = []
    for step in range(STEPS):
        f_t = feats[step % K]
        _, rec = p(f_t)
        loss = nn.MSELoss()(rec, f_t)
        out.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return out


if __name__ == "__main__":
    f = feature(0)
    print("// feature 0: mean square %.4g, max %.4g" % ((f * f).mean().item(), f.max().item()))
    for lr in (0.01, 0.003):
        print("// lr %g" % lr)
        print("{" + ", ".join("%.7g" % v for v in trajectory(lr)) + "}")
