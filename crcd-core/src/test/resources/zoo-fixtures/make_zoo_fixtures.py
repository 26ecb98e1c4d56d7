#!/usr/bin/python3
"""Reference fixtures for crcd's comparison zoo (issue #13), computed with PyTorch as
HobbitLong/RepDistiller (and megvii-research/mdistiller for DKD) compute them.

Run with Debian's PyTorch (torch 1.13, float64 on CPU):

    /usr/bin/python3 crcd-core/src/test/resources/zoo-fixtures/make_zoo_fixtures.py

It writes, next to itself, ``zoo_fixtures.json`` (an index: for every array its shape and its offset,
in float64 values, into the data file; plus scalars) and ``zoo_fixtures.bin`` (raw little-endian
float64). ReferenceFixturesTest (Java, DJL) reads them; tests never run Python.

Every loss below is a faithful re-implementation of the reference module (same ops, same
reductions, same eps), with the file and lines it follows cited in a comment. References:
  RepDistiller @ HEAD of github:HobbitLong/RepDistiller (distiller_zoo/*.py, models/util.py,
  train_student.py, helper/loops.py); mdistiller @ HEAD of github:megvii-research/mdistiller
  (mdistiller/distillers/DKD.py).

Feature lists follow RepDistiller's ``feats = [stem, stage1, stage2, stage3, pooled]``: hint_layer 2
is stage2, feats[1:-1] are the stages, feats[-2] the last stage, feats[-1] the pooled vector.
Teacher features are detached (helper/loops.py train_distill: ``feat_t = [f.detach() ...]``),
the auxiliary modules are in train mode (BatchNorm on batch statistics), gradients are taken with
respect to the student's features and every auxiliary parameter.
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))

ARRAYS = []  # (name, tensor)
SCALARS = {}


def put(name, t):
    ARRAYS.append((name, t.detach().to(torch.float64).contiguous()))


def scalar(name, v):
    SCALARS[name] = float(v)


# ---- inputs ---------------------------------------------------------------------------------

B = 4
CASES = {
    # same spatial sizes, differing channels (e.g. resnet8x4-like student vs wider teacher)
    "same": dict(stem_s=(4, 8), stem_t=(8, 8),
                 s=[(4, 8), (8, 4), (16, 2)], t=[(8, 8), (16, 4), (32, 2)],
                 ds=16, dt=32, relu=False),
    # differing spatial sizes in both directions, one not divisible (3 -> 2 overlapping bins);
    # post-ReLU (non-negative) maps as ResNet stages give
    "diff": dict(stem_s=(4, 8), stem_t=(6, 16),
                 s=[(4, 8), (8, 8), (16, 3)], t=[(6, 16), (16, 4), (32, 2)],
                 ds=16, dt=32, relu=True),
    # 'diff'-like (smaller maps) with the degenerate rows a post-ReLU network produces: two identical student pooled
    # vectors (RKD distance 0 -> clamp eps), an all-zero student pooled vector (PKT norm 0), two
    # identical teacher pooled vectors, an all-zero student sample in stage 1 (AT map 0), a dead
    # student channel in stage 3 (NST row 0)
    "edge": dict(stem_s=(4, 8), stem_t=(4, 8),
                 s=[(4, 8), (8, 4), (16, 3)], t=[(6, 8), (16, 4), (32, 2)],
                 ds=16, dt=32, relu=True, edge=True),
    # the init-stage methods (fsp needs equal channels): equal channels, the teacher's last stage
    # twice as tall (FT pools the teacher factor, FSP pools inside the student, AB's stage-3
    # connector is a transposed ConvReg); pre-activation copies for AB
    "small": dict(stem_s=(4, 8), stem_t=(4, 8),
                  s=[(4, 8), (8, 4), (8, 2)], t=[(4, 8), (8, 4), (8, 4)],
                  ds=8, dt=8, relu=True, preact=True),
}
NUM_CLASSES = 10
CC_FEAT_DIM = 16  # crcd option feat_dim (RepDistiller's --feat_dim, 128 by default)


def make_inputs(name, c, seed):
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape):
        x = torch.randn(*shape, generator=g)
        return x.abs() if c["relu"] else x

    inp = {}
    inp["s_stem"] = rnd(B, c["stem_s"][0], c["stem_s"][1], c["stem_s"][1])
    inp["t_stem"] = rnd(B, c["stem_t"][0], c["stem_t"][1], c["stem_t"][1])
    for i, (ch, h) in enumerate(c["s"]):
        inp["s_stage%d" % (i + 1)] = rnd(B, ch, h, h)
    for i, (ch, h) in enumerate(c["t"]):
        inp["t_stage%d" % (i + 1)] = rnd(B, ch, h, h)
    inp["s_pooled"] = rnd(B, c["ds"])
    inp["t_pooled"] = rnd(B, c["dt"])
    inp["s_logits"] = 2 * torch.randn(B, NUM_CLASSES, generator=g)
    inp["t_logits"] = 2 * torch.randn(B, NUM_CLASSES, generator=g)
    inp["labels"] = torch.randint(0, NUM_CLASSES, (B,), generator=g).to(torch.float64)
    if c.get("preact"):  # pre-activation stage outputs (signed), for AB
        for side, chans in (("s", c["s"]), ("t", c["t"])):
            for i, (ch, h) in enumerate(chans):
                inp["%s_preact%d" % (side, i + 1)] = torch.randn(B, ch, h, h, generator=g)
    if c.get("edge"):
        inp["s_pooled"][1] = inp["s_pooled"][0]
        inp["s_pooled"][3] = 0
        inp["t_pooled"][2] = inp["t_pooled"][3]
        inp["s_stage1"][2] = 0
        inp["s_stage3"][:, 0] = 0
    for k, v in inp.items():
        put("%s/in/%s" % (name, k), v)
    return inp


def leaves(inp):
    """Fresh student leaves with gradients, detached teacher features."""
    s = {k: v.clone().requires_grad_(k.startswith("s_")) for k, v in inp.items()}
    return s


def feats(x, side):
    """RepDistiller's feats list [stem, stage1..3, pooled] for 's' or 't'."""
    return [x[side + "_stem"], x[side + "_stage1"], x[side + "_stage2"], x[side + "_stage3"],
            x[side + "_pooled"]]


def record(prefix, loss, x, params=()):
    """Stores loss and its gradients w.r.t. every student input that receives one and params."""
    wrt = [(k, v) for k, v in x.items() if v.requires_grad] + list(params)
    grads = torch.autograd.grad(loss, [v for _, v in wrt], allow_unused=True)
    scalar(prefix + "/loss", loss.item())
    for (k, _), gr in zip(wrt, grads):
        if gr is not None:
            put(prefix + "/grad/" + k, gr)


# ---- KD: distiller_zoo/KD.py DistillKL (lines 7-17) -------------------------------------------

def distill_kl(y_s, y_t, T):
    p_s = F.log_softmax(y_s / T, dim=1)
    p_t = F.softmax(y_t / T, dim=1)
    return F.kl_div(p_s, p_t, reduction="sum") * (T ** 2) / y_s.shape[0]  # size_average=False


# ---- FitNet: distiller_zoo/FitNet.py HintLoss (MSELoss), models/util.py ConvReg --------------

class ConvReg(nn.Module):
    """models/util.py ConvReg (lines 'class ConvReg' .. forward), use_relu=True as
    train_student.py builds it for --distill hint: ConvReg(feat_s[hint].shape, feat_t[hint].shape)."""

    def __init__(self, s_shape, t_shape, use_relu=True):
        super().__init__()
        self.use_relu = use_relu
        s_N, s_C, s_H, s_W = s_shape
        t_N, t_C, t_H, t_W = t_shape
        if s_H == 2 * t_H:
            self.conv = nn.Conv2d(s_C, t_C, kernel_size=3, stride=2, padding=1)
        elif s_H * 2 == t_H:
            self.conv = nn.ConvTranspose2d(s_C, t_C, kernel_size=4, stride=2, padding=1)
        elif s_H >= t_H:
            self.conv = nn.Conv2d(s_C, t_C, kernel_size=(1 + s_H - t_H, 1 + s_W - t_W))
        else:
            raise NotImplementedError
        self.bn = nn.BatchNorm2d(t_C)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.conv(x)
        if self.use_relu:
            return self.relu(self.bn(x))
        return self.bn(x)


def fitnet(name, inp, hint_layer, seed):
    torch.manual_seed(seed)
    x = leaves(inp)
    fs, ft = feats(x, "s"), feats(x, "t")
    reg = ConvReg(fs[hint_layer].shape, ft[hint_layer].shape).train()
    with torch.no_grad():  # gamma/beta away from 1/0 so that their gradients are generic
        reg.bn.weight.copy_(1 + 0.2 * torch.randn(reg.bn.weight.shape))
        reg.bn.bias.copy_(0.2 * torch.randn(reg.bn.bias.shape))
    p = "%s/fitnet/h%d" % (name, hint_layer)
    put(p + "/param/conv_weight", reg.conv.weight)
    put(p + "/param/conv_bias", reg.conv.bias)
    put(p + "/param/bn_gamma", reg.bn.weight)
    put(p + "/param/bn_beta", reg.bn.bias)
    # helper/loops.py train_distill, 'hint': f_s = module_list[1](feat_s[hint]); MSELoss(f_s, f_t)
    loss = nn.MSELoss()(reg(fs[hint_layer]), ft[hint_layer].detach())
    # PyTorch updates the running statistics in this forward (momentum 0.1, unbiased variance)
    put(p + "/after/bn_runningMean", reg.bn.running_mean)
    put(p + "/after/bn_runningVar", reg.bn.running_var)
    record(p, loss, x, [("conv_weight", reg.conv.weight), ("conv_bias", reg.conv.bias),
                        ("bn_gamma", reg.bn.weight), ("bn_beta", reg.bn.bias)])


# ---- AT: distiller_zoo/AT.py Attention(p=2) ---------------------------------------------------

def at_map(f, p=2):
    return F.normalize(f.pow(p).mean(1).view(f.size(0), -1))  # AT.py at()


def match_heights(f_s, f_t):
    # AT.py at_loss / NST.py nst_loss / VID.py forward: pool the taller to (H, H) of the other
    s_H, t_H = f_s.shape[2], f_t.shape[2]
    if s_H > t_H:
        f_s = F.adaptive_avg_pool2d(f_s, (t_H, t_H))
    elif s_H < t_H:
        f_t = F.adaptive_avg_pool2d(f_t, (s_H, s_H))
    return f_s, f_t


def at_loss(f_s, f_t):
    f_s, f_t = match_heights(f_s, f_t)
    return (at_map(f_s) - at_map(f_t)).pow(2).mean()


def at(name, inp):
    x = leaves(inp)
    g_s, g_t = feats(x, "s")[1:-1], [f.detach() for f in feats(x, "t")[1:-1]]
    loss = sum(at_loss(a, b) for a, b in zip(g_s, g_t))  # loops.py 'attention': sum(loss_group)
    record(name + "/at", loss, x)


# ---- SP: distiller_zoo/SP.py Similarity, on [feat[-2]] (loops.py 'similarity') ---------------

def sp(name, inp):
    x = leaves(inp)
    f_s, f_t = feats(x, "s")[-2], feats(x, "t")[-2].detach()
    bsz = f_s.shape[0]
    f_s = f_s.view(bsz, -1)
    f_t = f_t.view(bsz, -1)
    G_s = F.normalize(torch.mm(f_s, torch.t(f_s)))
    G_t = F.normalize(torch.mm(f_t, torch.t(f_t)))
    G_diff = G_t - G_s
    loss = (G_diff * G_diff).view(-1, 1).sum(0) / (bsz * bsz)
    record(name + "/sp", loss.sum(), x)


# ---- NST: distiller_zoo/NST.py NSTLoss (full_loss=True), feats[1:-1] (loops.py 'nst') --------

def poly_kernel(a, b):
    a = a.unsqueeze(1)
    b = b.unsqueeze(2)
    return (a * b).sum(-1).pow(2)


def nst_loss(f_s, f_t):
    f_s, f_t = match_heights(f_s, f_t)
    f_s = F.normalize(f_s.view(f_s.shape[0], f_s.shape[1], -1), dim=2)
    f_t = F.normalize(f_t.view(f_t.shape[0], f_t.shape[1], -1), dim=2)
    return (poly_kernel(f_t, f_t).mean().detach() + poly_kernel(f_s, f_s).mean()
            - 2 * poly_kernel(f_s, f_t).mean())


def nst(name, inp):
    x = leaves(inp)
    g_s, g_t = feats(x, "s")[1:-1], [f.detach() for f in feats(x, "t")[1:-1]]
    loss = sum(nst_loss(a, b) for a, b in zip(g_s, g_t))
    record(name + "/nst", loss, x)


# ---- CC: distiller_zoo/CC.py Correlation with models/util.py LinearEmbed both sides ----------

class LinearEmbed(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.linear = nn.Linear(dim_in, dim_out)

    def forward(self, x):
        return self.linear(x.view(x.shape[0], -1))


def cc(name, inp, feat_dim, seed):
    torch.manual_seed(seed)
    x = leaves(inp)
    f_s, f_t = feats(x, "s")[-1], feats(x, "t")[-1].detach()
    # train_student.py 'correlation': LinearEmbed(feat_s[-1].shape[1], opt.feat_dim), same for t
    embed_s = LinearEmbed(f_s.shape[1], feat_dim)
    embed_t = LinearEmbed(f_t.shape[1], feat_dim)
    p = name + "/cc"
    params = [("embed_s_linear_weight", embed_s.linear.weight),
              ("embed_s_linear_bias", embed_s.linear.bias),
              ("embed_t_linear_weight", embed_t.linear.weight),
              ("embed_t_linear_bias", embed_t.linear.bias)]
    for k, v in params:
        put(p + "/param/" + k, v)
    e_s, e_t = embed_s(f_s), embed_t(f_t)  # loops.py 'correlation'
    delta = torch.abs(e_s - e_t)
    loss = torch.mean((delta[:-1] * delta[1:]).sum(1))
    record(p, loss, x, params)


# ---- RKD: distiller_zoo/RKD.py RKDLoss(w_d=25, w_a=50), on feats[-1] --------------------------

def pdist(e, squared=False, eps=1e-12):
    e_square = e.pow(2).sum(dim=1)
    prod = e @ e.t()
    res = (e_square.unsqueeze(1) + e_square.unsqueeze(0) - 2 * prod).clamp(min=eps)
    if not squared:
        res = res.sqrt()
    res = res.clone()
    res[range(len(e)), range(len(e))] = 0
    return res


def rkd(name, inp, dtype=torch.float64, suffix=""):
    x = leaves({k: v.to(dtype) for k, v in inp.items()})
    f_s, f_t = feats(x, "s")[-1], feats(x, "t")[-1].detach()
    student = f_s.view(f_s.shape[0], -1)
    teacher = f_t.view(f_t.shape[0], -1)
    with torch.no_grad():
        t_d = pdist(teacher, squared=False)
        t_d = t_d / t_d[t_d > 0].mean()
    d = pdist(student, squared=False)
    d = d / d[d > 0].mean()
    loss_d = F.smooth_l1_loss(d, t_d)
    with torch.no_grad():
        td = teacher.unsqueeze(0) - teacher.unsqueeze(1)
        norm_td = F.normalize(td, p=2, dim=2)
        t_angle = torch.bmm(norm_td, norm_td.transpose(1, 2)).view(-1)
    sd = student.unsqueeze(0) - student.unsqueeze(1)
    norm_sd = F.normalize(sd, p=2, dim=2)
    s_angle = torch.bmm(norm_sd, norm_sd.transpose(1, 2)).view(-1)
    loss_a = F.smooth_l1_loss(s_angle, t_angle)
    # the two parts separately (crcd's terms rkd_distance / rkd_angle) and RKDLoss's sum
    record(name + "/rkd_distance" + suffix, loss_d, x)
    record(name + "/rkd_angle" + suffix, loss_a, x)
    scalar(name + "/rkd/w_d", 25)
    scalar(name + "/rkd/w_a", 50)


# ---- PKT: distiller_zoo/PKT.py cosine_similarity_loss (eps 1e-7), on feats[-1] ---------------

def pkt(name, inp, term="/pkt"):
    x = leaves(inp)
    output_net, target_net = feats(x, "s")[-1], feats(x, "t")[-1].detach()
    eps = 0.0000001
    output_net_norm = torch.sqrt(torch.sum(output_net ** 2, dim=1, keepdim=True))
    output_net = output_net / (output_net_norm + eps)
    output_net[output_net != output_net] = 0
    target_net_norm = torch.sqrt(torch.sum(target_net ** 2, dim=1, keepdim=True))
    target_net = target_net / (target_net_norm + eps)
    target_net[target_net != target_net] = 0
    model_similarity = torch.mm(output_net, output_net.transpose(0, 1))
    target_similarity = torch.mm(target_net, target_net.transpose(0, 1))
    model_similarity = (model_similarity + 1.0) / 2.0
    target_similarity = (target_similarity + 1.0) / 2.0
    model_similarity = model_similarity / torch.sum(model_similarity, dim=1, keepdim=True)
    target_similarity = target_similarity / torch.sum(target_similarity, dim=1, keepdim=True)
    loss = torch.mean(target_similarity * torch.log((target_similarity + eps) / (model_similarity + eps)))
    record(name + term, loss, x)


# ---- VID: distiller_zoo/VID.py VIDLoss(s_C, t_C, t_C) per stage (train_student.py 'vid') -----

class VIDLoss(nn.Module):
    def __init__(self, num_input_channels, num_mid_channel, num_target_channels,
                 init_pred_var=5.0, eps=1e-5):
        super().__init__()

        def conv1x1(i, o):
            return nn.Conv2d(i, o, kernel_size=1, padding=0, bias=False, stride=1)

        self.regressor = nn.Sequential(
            conv1x1(num_input_channels, num_mid_channel), nn.ReLU(),
            conv1x1(num_mid_channel, num_mid_channel), nn.ReLU(),
            conv1x1(num_mid_channel, num_target_channels))
        self.log_scale = nn.Parameter(
            math.log(math.exp(init_pred_var - eps) - 1.0) * torch.ones(num_target_channels))
        self.eps = eps

    def forward(self, input, target):
        input, target = match_heights(input, target)
        pred_mean = self.regressor(input)
        pred_var = torch.log(1.0 + torch.exp(self.log_scale)) + self.eps
        pred_var = pred_var.view(1, -1, 1, 1)
        neg_log_prob = 0.5 * ((pred_mean - target) ** 2 / pred_var + torch.log(pred_var))
        return torch.mean(neg_log_prob)


def vid(name, inp, seed):
    torch.manual_seed(seed)
    x = leaves(inp)
    g_s, g_t = feats(x, "s")[1:-1], [f.detach() for f in feats(x, "t")[1:-1]]
    crit = [VIDLoss(s.shape[1], t.shape[1], t.shape[1]) for s, t in zip(g_s, g_t)]
    params = []
    p = name + "/vid"
    # VID.py: log_scale = log(exp(init_pred_var - eps) - 1) (float32 parameter in the reference)
    scalar(p + "/log_scale_init", VIDLoss(1, 1, 1, 5.0).log_scale.detach().float()[0].item())
    for l, c in enumerate(crit):
        with torch.no_grad():  # log_scale away from its constant init, so each channel differs
            c.log_scale.add_(0.5 * torch.randn(c.log_scale.shape))
        for k, v in [("conv1_weight", c.regressor[0].weight), ("conv2_weight", c.regressor[2].weight),
                     ("conv3_weight", c.regressor[4].weight), ("log_scale", c.log_scale)]:
            key = "layer%d_%s" % (l + 1, k)
            put(p + "/param/" + key, v)
            params.append((key, v))
    loss = sum(c(a, b) for a, b, c in zip(g_s, g_t, crit))  # loops.py 'vid'
    record(p, loss, x, params)


# ---- FSP: distiller_zoo/FSP.py on feats[:-1] (helper/pretrain.py init(): 'fsp') ---------------

def compute_fsp(g):
    fsp_list = []
    for i in range(len(g) - 1):
        bot, top = g[i], g[i + 1]
        b_H, t_H = bot.shape[2], top.shape[2]
        if b_H > t_H:
            bot = F.adaptive_avg_pool2d(bot, (t_H, t_H))
        elif b_H < t_H:
            top = F.adaptive_avg_pool2d(top, (b_H, b_H))
        bot = bot.unsqueeze(1)
        top = top.unsqueeze(2)
        bot = bot.view(bot.shape[0], bot.shape[1], bot.shape[2], -1)
        top = top.view(top.shape[0], top.shape[1], top.shape[2], -1)
        fsp_list.append((bot * top).mean(-1))
    return fsp_list


def fsp(name, inp):
    x = leaves(inp)
    g_s, g_t = feats(x, "s")[:-1], [f.detach() for f in feats(x, "t")[:-1]]
    loss = sum((a - b).pow(2).mean() for a, b in zip(compute_fsp(g_s), compute_fsp(g_t)))
    record(name + "/fsp", loss, x)


# ---- FT: distiller_zoo/FT.py FactorTransfer(p1=2, p2=1), models/util.py Paraphraser/Translator --

class Paraphraser(nn.Module):
    """models/util.py Paraphraser(t_shape, k=0.5, use_bn=False) as train_student.py builds it."""

    def __init__(self, in_channel, k=0.5):
        super().__init__()
        out_channel = int(in_channel * k)
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channel, in_channel, 3, 1, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(in_channel, out_channel, 3, 1, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(out_channel, out_channel, 3, 1, 1), nn.LeakyReLU(0.1))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(out_channel, out_channel, 3, 1, 1), nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(out_channel, in_channel, 3, 1, 1), nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(in_channel, in_channel, 3, 1, 1), nn.LeakyReLU(0.1))

    def forward(self, f_s, is_factor=False):
        factor = self.encoder(f_s)
        if is_factor:
            return factor
        return factor, self.decoder(factor)


class Translator(nn.Module):
    """models/util.py Translator(s_shape, t_shape, k=0.5, use_bn=True)."""

    def __init__(self, in_channel, t_channel, k=0.5):
        super().__init__()
        out_channel = int(t_channel * k)
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channel, in_channel, 3, 1, 1), nn.BatchNorm2d(in_channel), nn.LeakyReLU(0.1),
            nn.Conv2d(in_channel, out_channel, 3, 1, 1), nn.BatchNorm2d(out_channel), nn.LeakyReLU(0.1),
            nn.Conv2d(out_channel, out_channel, 3, 1, 1), nn.BatchNorm2d(out_channel), nn.LeakyReLU(0.1))

    def forward(self, f_s):
        return self.encoder(f_s)


def ft_factor(f, p1=2):
    return F.normalize(f.pow(p1).mean(1).view(f.size(0), -1))


def ft(name, inp, seed):
    torch.manual_seed(seed)
    x = leaves(inp)
    f_s, f_t = feats(x, "s")[-2], feats(x, "t")[-2].detach()  # loops.py 'factor': feat[-2]
    para = Paraphraser(f_t.shape[1]).train()
    trans = Translator(f_s.shape[1], f_t.shape[1]).train()
    p = name + "/ft"
    params = []
    for i, j in enumerate((0, 2, 4)):
        params += [("paraphraser_enc%d_weight" % (i + 1), para.encoder[j].weight),
                   ("paraphraser_enc%d_bias" % (i + 1), para.encoder[j].bias),
                   ("paraphraser_dec%d_weight" % (i + 1), para.decoder[j].weight),
                   ("paraphraser_dec%d_bias" % (i + 1), para.decoder[j].bias)]
    for i, j in enumerate((0, 3, 6)):
        bn = trans.encoder[j + 1]
        with torch.no_grad():
            bn.weight.copy_(1 + 0.2 * torch.randn(bn.weight.shape))
            bn.bias.copy_(0.2 * torch.randn(bn.bias.shape))
        params += [("translator_conv%d_weight" % (i + 1), trans.encoder[j].weight),
                   ("translator_conv%d_bias" % (i + 1), trans.encoder[j].bias),
                   ("translator_bn%d_gamma" % (i + 1), bn.weight),
                   ("translator_bn%d_beta" % (i + 1), bn.bias)]
    for k, v in params:
        put(p + "/param/" + k, v)
    # main stage, loops.py 'factor': factor_s = translator(feat_s[-2]),
    # factor_t = paraphraser(feat_t[-2], is_factor=True); FactorTransfer (p1 2, p2 1)
    factor_s = trans(f_s)
    factor_t = para(f_t, is_factor=True)
    s_H, t_H = factor_s.shape[2], factor_t.shape[2]
    if s_H > t_H:
        factor_s = F.adaptive_avg_pool2d(factor_s, (t_H, t_H))
    elif s_H < t_H:
        factor_t = F.adaptive_avg_pool2d(factor_t, (s_H, s_H))
    loss = (ft_factor(factor_s) - ft_factor(factor_t)).abs().mean()
    trans_params = [kv for kv in params if kv[0].startswith("translator")]
    for i in range(3):
        bn = trans.encoder[3 * i + 1]
        put(p + "/after/translator_bn%d_runningMean" % (i + 1), bn.running_mean)
        put(p + "/after/translator_bn%d_runningVar" % (i + 1), bn.running_var)
    record(p, loss, x, trans_params)
    # init stage, pretrain.py 'factor': _, f_t_rec = paraphraser(feat_t[-2]); MSELoss(f_t_rec, f_t)
    _, rec = para(f_t)
    loss = nn.MSELoss()(rec, f_t)
    record(name + "/ft_init", loss, x, [kv for kv in params if kv[0].startswith("paraphraser")])


# ---- AB: distiller_zoo/AB.py ABLoss(3, margin 1), models/util.py Connector (pretrain.py 'abound')

def ab(name, inp, seed):
    torch.manual_seed(seed)
    x = leaves(inp)
    g_s = [x["s_preact%d" % i] for i in (1, 2, 3)]  # feat_s[1:-1] with preact=True
    g_t = [x["t_preact%d" % i].detach() for i in (1, 2, 3)]
    p = name + "/ab"
    params = []
    conns = []
    for i, (s, t) in enumerate(zip(g_s, g_t)):
        if s.shape[1] == t.shape[1] and s.shape[2] == t.shape[2]:
            conns.append(nn.Sequential())
            continue
        reg = ConvReg(s.shape, t.shape, use_relu=False).train()
        with torch.no_grad():
            reg.bn.weight.copy_(1 + 0.2 * torch.randn(reg.bn.weight.shape))
            reg.bn.bias.copy_(0.2 * torch.randn(reg.bn.bias.shape))
        conns.append(reg)
        key = "connector%d_" % (i + 1)
        params += [(key + "conv_weight", reg.conv.weight), (key + "conv_bias", reg.conv.bias),
                   (key + "bn_gamma", reg.bn.weight), (key + "bn_beta", reg.bn.bias)]
    for k, v in params:
        put(p + "/param/" + k, v)
    margin = 1.0
    feat_num = 3
    w = [2 ** (i - feat_num + 1) for i in range(feat_num)]
    bsz = g_s[0].shape[0]
    losses = []
    for c, s, t in zip(conns, g_s, g_t):
        source = c(s)
        l2 = ((source + margin) ** 2 * ((source > -margin) & (t <= 0)).float()
              + (source - margin) ** 2 * ((source <= margin) & (t > 0)).float())
        losses.append(torch.abs(l2).sum())
    losses = [wi * l for wi, l in zip(w, losses)]
    losses = [l / bsz for l in losses]
    losses = [l / 1000 * 3 for l in losses]
    record(p, sum(losses), x, params)


# ---- SSKD: xuguodong03/SSKD student.py (student loop lines 229-295, teacher head 124-152) ------

def sskd(name, seed):
    """SSKD's rows are image-major (row 4 i + k: image i rotated k * 90 degrees, x.view(-1, c, h,
    w) of a (B, 4, c, h, w) batch); crcd's are view-major (row k B + i, InputViews). The loss is
    computed in SSKD's order; inputs and gradients are stored permuted to crcd's."""
    g = torch.Generator().manual_seed(seed)
    batch, C, Ds, Dt = B, NUM_CLASSES, 8, 12
    kd_T, tf_T, ss_T, ratio_tf, ratio_ss = 4.0, 4.0, 0.5, 1.0, 0.75  # student.py defaults
    inp = {"s_logits": 2 * torch.randn(4 * batch, C, generator=g),
           "t_logits": 2 * torch.randn(4 * batch, C, generator=g),
           "s_pooled": torch.randn(4 * batch, Ds, generator=g).abs(),
           "t_pooled": torch.randn(4 * batch, Dt, generator=g).abs()}
    target = torch.randint(0, C, (batch,), generator=g)

    def crcd_rows(t):  # SSKD row 4 i + k -> crcd row k B + i
        return t.view(batch, 4, *t.shape[1:]).transpose(0, 1).reshape(t.shape)

    for k, v in inp.items():
        put("%s/in/%s" % (name, k), crcd_rows(v))
    put("%s/in/labels" % name, target.to(torch.float64))
    torch.manual_seed(seed)

    def head(d):  # wrapper.py proj_head
        return nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True), nn.Linear(d, d))

    s_head, t_head = head(Ds), head(Dt)
    params = {}
    for side, h in (("student", s_head), ("teacher", t_head)):
        for i, j in ((1, 0), (2, 2)):
            for part, v in (("weight", h[j].weight), ("bias", h[j].bias)):
                key = "%s_head_fc%d_%s" % (side, i, part)
                params[key] = v
                put(name + "/sskd/param/" + key, v)

    def cos_sim(feat):  # student.py lines 261-265 / 267-271
        nor_index = (torch.arange(4 * batch) % 4 == 0)
        aug_index = (torch.arange(4 * batch) % 4 != 0)
        nor_feat = feat[nor_index].unsqueeze(2).expand(-1, -1, 3 * batch).transpose(0, 2)
        aug_feat = feat[aug_index].unsqueeze(2).expand(-1, -1, 1 * batch)
        return F.cosine_similarity(aug_feat, nor_feat, dim=1)

    def keep(scores, aug_target, ratio):  # error level ranking, lines 250-258 / 274-282
        rank = torch.argsort(scores, dim=1, descending=True)
        rank = torch.argmax(torch.eq(rank, aug_target.unsqueeze(1)).long(), dim=1)
        # SSKD's torch.argsort(rank) is not stable; crcd keeps, among wrong rows of equal rank,
        # the one earlier in SSKD's row order (docs/zoo/sskd.md): a stable sort
        index = torch.sort(rank, stable=True)[1]
        tmp = torch.nonzero(rank, as_tuple=True)[0]
        wrong_num = tmp.numel()
        correct_num = 3 * batch - wrong_num
        wrong_keep = int(wrong_num * ratio)
        index = index[:correct_num + wrong_keep]
        return torch.sort(index)[0]

    x = {k: v.clone().requires_grad_(k.startswith("s_")) for k, v in inp.items()}
    nor_index = (torch.arange(4 * batch) % 4 == 0)
    aug_index = (torch.arange(4 * batch) % 4 != 0)
    output = x["s_logits"]
    s_feat = s_head(x["s_pooled"])
    log_nor_output = F.log_softmax(output[nor_index] / kd_T, dim=1)
    log_aug_output = F.log_softmax(output[aug_index] / tf_T, dim=1)
    with torch.no_grad():
        knowledge, t_feat = x["t_logits"], t_head(x["t_pooled"])
        nor_knowledge = F.softmax(knowledge[nor_index] / kd_T, dim=1)
        aug_knowledge = F.softmax(knowledge[aug_index] / tf_T, dim=1)
    aug_target = target.unsqueeze(1).expand(-1, 3).contiguous().view(-1).long()
    distill_index_tf = keep(aug_knowledge, aug_target, ratio_tf)
    s_simi = cos_sim(s_feat)
    t_simi = cos_sim(t_feat).detach()
    aug_target = torch.arange(batch).unsqueeze(1).expand(-1, 3).contiguous().view(-1).long()
    distill_index_ss = keep(t_simi, aug_target, ratio_ss)
    log_simi = F.log_softmax(s_simi / ss_T, dim=1)
    simi_knowledge = F.softmax(t_simi / ss_T, dim=1)
    loss2 = F.kl_div(log_nor_output, nor_knowledge, reduction="batchmean") * kd_T * kd_T
    loss3 = F.kl_div(log_aug_output[distill_index_tf], aug_knowledge[distill_index_tf],
                     reduction="batchmean") * tf_T * tf_T
    loss4 = F.kl_div(log_simi[distill_index_ss], simi_knowledge[distill_index_ss],
                     reduction="batchmean") * ss_T * ss_T
    scalar(name + "/sskd/kept_tf", len(distill_index_tf))
    scalar(name + "/sskd/kept_ss", len(distill_index_ss))
    s_params = [(k, v) for k, v in params.items() if k.startswith("student")]
    for term, loss in (("kd", loss2), ("sskd_tf", loss3), ("sskd_ss", loss4)):
        wrt = [("s_logits", x["s_logits"]), ("s_pooled", x["s_pooled"])] + s_params
        grads = torch.autograd.grad(loss, [v for _, v in wrt], allow_unused=True,
                                    retain_graph=True)
        scalar("%s/sskd_%s/loss" % (name, term), loss.item())
        for (k, _), gr in zip(wrt, grads):
            if gr is not None:
                put("%s/sskd_%s/grad/%s" % (name, term, k), crcd_rows(gr) if k.startswith("s_") else gr)
    # teacher SS head (lines 133-150): backbone frozen (feat detached), CE(simi, own original)
    rep_ = t_head(x["t_pooled"].detach())
    simi = cos_sim(rep_)
    loss = F.cross_entropy(simi, aug_target)
    t_params = [(k, v) for k, v in params.items() if k.startswith("teacher")]
    grads = torch.autograd.grad(loss, [v for _, v in t_params])
    scalar(name + "/sskd_teacher_ss/loss", loss.item())
    for (k, _), gr in zip(t_params, grads):
        put(name + "/sskd_teacher_ss/grad/" + k, gr)


# ---- KD (the shared "+KD" term) --------------------------------------------------------------

def kd(name, inp, T):
    x = leaves(inp)
    loss = distill_kl(x["s_logits"], x["t_logits"].detach(), T)
    record(name + "/kd", loss, x)


# ---- DKD: mdistiller/distillers/DKD.py dkd_loss -----------------------------------------------

def dkd(name, inp, alpha, beta, temperature, warmup, epoch):
    x = leaves(inp)
    logits_student, logits_teacher = x["s_logits"], x["t_logits"].detach()
    target = inp["labels"].to(torch.int64)

    def _get_gt_mask(logits, target):
        target = target.reshape(-1)
        return torch.zeros_like(logits).scatter_(1, target.unsqueeze(1), 1).bool()

    def _get_other_mask(logits, target):
        target = target.reshape(-1)
        return torch.ones_like(logits).scatter_(1, target.unsqueeze(1), 0).bool()

    def cat_mask(t, mask1, mask2):
        t1 = (t * mask1).sum(dim=1, keepdims=True)
        t2 = (t * mask2).sum(1, keepdims=True)
        return torch.cat([t1, t2], dim=1)

    gt_mask = _get_gt_mask(logits_student, target)
    other_mask = _get_other_mask(logits_student, target)
    pred_student = F.softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    pred_student = cat_mask(pred_student, gt_mask, other_mask)
    pred_teacher = cat_mask(pred_teacher, gt_mask, other_mask)
    log_pred_student = torch.log(pred_student)
    tckd_loss = (F.kl_div(log_pred_student, pred_teacher, size_average=False)
                 * (temperature ** 2) / target.shape[0])
    pred_teacher_part2 = F.softmax(logits_teacher / temperature - 1000.0 * gt_mask, dim=1)
    log_pred_student_part2 = F.log_softmax(logits_student / temperature - 1000.0 * gt_mask, dim=1)
    nckd_loss = (F.kl_div(log_pred_student_part2, pred_teacher_part2, size_average=False)
                 * (temperature ** 2) / target.shape[0])
    # DKD.forward_train: loss_dkd = min(epoch / warmup, 1.0) * dkd_loss(...)
    w = min(epoch / warmup, 1.0)
    p = "%s/dkd/e%d" % (name, epoch)
    record(p + "/tckd", w * alpha * tckd_loss, x)
    record(p + "/nckd", w * beta * nckd_loss, x)


def main():
    for i, (name, c) in enumerate(CASES.items()):
        inp = make_inputs(name, c, 1000 + i)
        if name == "small":
            fsp(name, inp)
            ft(name, inp, 5000)
            ab(name, inp, 5001)
            continue
        hints = {"same": [2], "diff": [1, 2, 3], "edge": []}[name]  # 'diff': transposed, strided, valid 2x2
        for h in hints:
            fitnet(name, inp, h, 2000 + 10 * i + h)
        at(name, inp)
        sp(name, inp)
        nst(name, inp)
        cc(name, inp, CC_FEAT_DIM, 3000 + i)
        rkd(name, inp)
        if name == "edge":
            # float32 as well: with duplicate rows the float32 value differs from float64's by
            # ~1e-3 relative (cancellation in e_i^2 + e_j^2 - 2 e_i.e_j), in PyTorch as in crcd
            rkd(name, inp, torch.float32, "/float32")
        pkt(name, inp)
        if name == "edge":
            # the all-zero row's gradient is NaN in the reference (sqrt'(0) * 0); its limit, the
            # gradient at a row of 1e-30 (x / (|x| + eps) ~ x / eps near 0), is finite
            tiny = dict(inp)
            tiny["s_pooled"] = inp["s_pooled"].clone()
            tiny["s_pooled"][3] = 1e-30
            pkt(name, tiny, "/pkt_limit")
        if name != "edge":  # nothing degenerate reaches VID's or FitNet's regressors
            vid(name, inp, 4000 + i)
        kd(name, inp, 4.0)
        for epoch in (5, 20, 25):
            dkd(name, inp, 1.0, 8.0, 4.0, 20, epoch)
    sskd("sskd", 6000)
    index, data, offset = {}, bytearray(), 0
    for name, t in ARRAYS:
        v = t.reshape(-1).tolist()
        index[name] = {"shape": list(t.shape), "offset": offset}
        data += struct.pack("<%dd" % len(v), *v)
        offset += len(v)
    with open(os.path.join(HERE, "zoo_fixtures.bin"), "wb") as f:
        f.write(bytes(data))
    with open(os.path.join(HERE, "zoo_fixtures.json"), "w") as f:
        json.dump({"generator": "make_zoo_fixtures.py", "torch": torch.__version__,
                   "arrays": index, "scalars": SCALARS}, f, indent=1, sort_keys=True)
        f.write("\n")
    print("%d arrays, %d values (%d bytes), %d scalars"
          % (len(index), offset, len(data), len(SCALARS)))


if __name__ == "__main__":
    main()
