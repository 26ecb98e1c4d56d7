#!/usr/bin/env python3
"""Makes the PyTorch fixtures of crcd's checkpoint import (TorchImportTest, docs/import.md).

Run once with Debian's python3-torch (1.13), never at test time:

    apt-get install -y python3-torch
    cd crcd-train/src/test/resources/torch-fixtures && /usr/bin/python3 make_fixtures.py

The networks are written here from RepDistiller's models/*.py (HobbitLong/RepDistiller, BSD-2),
reduced to what the logits need (no feature taps), with an extra `in_ch` for grey-scale input.
Parameter and module names are RepDistiller's, which is the point: crcd's name maps are checked
against them.

Outputs (all small):
  <model>.pth          zip format (torch >= 1.6), a plain state_dict or {'model': sd, ...}
  <model>.legacy.pth   the same in the legacy format (_use_new_zipfile_serialization=False)
  <model>.io.pt        {'input': (4, C, 32, 32), 'logits': (4, classes)} from eval mode
  repdistiller_keys.txt  every state_dict key and shape of the 22 models at 100 classes
  torchvision_keys.txt   the same for torchvision's resnet18/resnet34 at 1000 classes
  resnet18.pth, .io.pt   torchvision layout, float16, 64x64 input, zip format only
  fashion_resnet8.pth  resnet8 for 1x28x28 input, 10 classes (the CLI distillation test)
  whole_module.pth     torch.save(nn.Linear(2, 2)): a module, not a state_dict (error test)

Weights are random but of low entropy (small integers times a power of two per tensor, most of
them zero) so that the files compress well (they are committed gzip'ed) and are exact in float16;
BatchNorm running statistics are random too, so eval mode matters.
"""
import gzip
import math
import os
import shutil

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)


# ---------------------------------------------------------------- resnet.py (CIFAR ResNet)
def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return F.relu(out + residual)


class ResNet(nn.Module):
    def __init__(self, depth, num_filters, num_classes=10, in_ch=3):
        super().__init__()
        n = (depth - 2) // 6
        self.inplanes = num_filters[0]
        self.conv1 = nn.Conv2d(in_ch, num_filters[0], kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(num_filters[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(num_filters[1], n)
        self.layer2 = self._make_layer(num_filters[2], n, stride=2)
        self.layer3 = self._make_layer(num_filters[3], n, stride=2)
        self.fc = nn.Linear(num_filters[3], num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        for _ in range(1, blocks):
            layers.append(BasicBlock(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)  # RepDistiller: AvgPool2d(8) at 32x32
        return self.fc(x)


# ---------------------------------------------------------------- resnetv2.py (ResNet50)
class Bottleneck50(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, 4 * planes, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != 4 * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, 4 * planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(4 * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


class ResNet50(nn.Module):
    def __init__(self, num_classes=10, in_ch=3):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(in_ch, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make_layer(64, 3, 1)
        self.layer2 = self._make_layer(128, 4, 2)
        self.layer3 = self._make_layer(256, 6, 2)
        self.layer4 = self._make_layer(512, 3, 2)
        self.linear = nn.Linear(2048, num_classes)

    def _make_layer(self, planes, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(Bottleneck50(self.in_planes, planes, s))
            self.in_planes = planes * 4
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


# ---------------------------------------------------------------- wrn.py
class WrnBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equalInOut = in_planes == out_planes
        self.convShortcut = (not self.equalInOut) and nn.Conv2d(
            in_planes, out_planes, 1, stride, 0, bias=False) or None

    def forward(self, x):
        if not self.equalInOut:
            x = self.relu1(self.bn1(x))
        else:
            out = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(out if self.equalInOut else x)))
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)


class NetworkBlock(nn.Module):
    def __init__(self, nb_layers, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(*[
            WrnBlock(i == 0 and in_planes or out_planes, out_planes, i == 0 and stride or 1)
            for i in range(nb_layers)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, num_classes, widen_factor=1, in_ch=3):
        super().__init__()
        ch = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(in_ch, ch[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(ch[3], num_classes)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


# ---------------------------------------------------------------- vgg.py (batch_norm=True)
class VGG(nn.Module):
    def __init__(self, cfg, num_classes=10, in_ch=3):
        super().__init__()
        self.block0 = self._make_layers(cfg[0], in_ch)
        self.block1 = self._make_layers(cfg[1], cfg[0][-1])
        self.block2 = self._make_layers(cfg[2], cfg[1][-1])
        self.block3 = self._make_layers(cfg[3], cfg[2][-1])
        self.block4 = self._make_layers(cfg[4], cfg[3][-1])
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.classifier = nn.Linear(512, num_classes)

    @staticmethod
    def _make_layers(cfg, in_channels):
        layers = []
        for v in cfg:
            layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.BatchNorm2d(v),
                       nn.ReLU(inplace=True)]
            in_channels = v
        return nn.Sequential(*layers[:-1])

    def forward(self, x):
        h = x.shape[2]
        x = self.pool(F.relu(self.block0(x)))
        x = self.pool(F.relu(self.block1(x)))
        x = self.pool(F.relu(self.block2(x)))
        x = F.relu(self.block3(x))
        if h == 64:
            x = self.pool(x)
        x = F.relu(self.block4(x))
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


VGG_CFG = {
    'vgg8': [[64], [128], [256], [512], [512]],
    'vgg11': [[64], [128], [256, 256], [512, 512], [512, 512]],
    'vgg13': [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    'vgg16': [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    'vgg19': [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4],
}


# ---------------------------------------------------------------- mobilenetv2.py (mobile_half)
class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        self.use_res_connect = stride == 1 and inp == oup
        self.conv = nn.Sequential(
            nn.Conv2d(inp, inp * t, 1, 1, 0, bias=False), nn.BatchNorm2d(inp * t),
            nn.ReLU(inplace=True),
            nn.Conv2d(inp * t, inp * t, 3, stride, 1, groups=inp * t, bias=False),
            nn.BatchNorm2d(inp * t), nn.ReLU(inplace=True),
            nn.Conv2d(inp * t, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, T=6, num_classes=100, width_mult=0.5, in_ch=3):
        super().__init__()
        setting = [[1, 16, 1, 1], [T, 24, 2, 1], [T, 32, 3, 2], [T, 64, 4, 2], [T, 96, 3, 1],
                   [T, 160, 3, 2], [T, 320, 1, 1]]
        c_in = int(32 * width_mult)
        self.conv1 = nn.Sequential(nn.Conv2d(in_ch, c_in, 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(c_in), nn.ReLU(inplace=True))
        self.blocks = nn.ModuleList([])
        for t, c, n, s in setting:
            c_out = int(c * width_mult)
            layers = []
            for stride in [s] + [1] * (n - 1):
                layers.append(InvertedResidual(c_in, c_out, stride, t))
                c_in = c_out
            self.blocks.append(nn.Sequential(*layers))
        self.conv2 = nn.Sequential(nn.Conv2d(c_in, 1280, 1, 1, 0, bias=False),
                                   nn.BatchNorm2d(1280), nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(nn.Linear(1280, num_classes))

    def forward(self, x):
        out = self.conv1(x)
        for b in self.blocks:
            out = b(out)
        out = self.conv2(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)  # AvgPool2d(2, ceil_mode) at 32x32
        return self.classifier(out)


# ---------------------------------------------------------------- ShuffleNetv1.py
def shuffle(x, g):
    n, c, h, w = x.size()
    return x.view(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class ShuffleBottleneck(nn.Module):
    def __init__(self, in_planes, out_planes, stride, groups):
        super().__init__()
        self.stride = stride
        mid = int(out_planes / 4)
        self.g = 1 if in_planes == 24 else groups
        self.conv1 = nn.Conv2d(in_planes, mid, kernel_size=1, groups=self.g, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_planes, kernel_size=1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride == 2:
            self.shortcut = nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = shuffle(out, self.g)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        res = self.shortcut(x)
        return F.relu(torch.cat([out, res], 1) if self.stride == 2 else out + res)


class ShuffleNetV1(nn.Module):
    def __init__(self, num_classes=10, in_ch=3):
        super().__init__()
        out_planes, num_blocks, groups = [240, 480, 960], [4, 8, 4], 3
        self.conv1 = nn.Conv2d(in_ch, 24, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_planes = 24
        self.layer1 = self._make_layer(out_planes[0], num_blocks[0], groups)
        self.layer2 = self._make_layer(out_planes[1], num_blocks[1], groups)
        self.layer3 = self._make_layer(out_planes[2], num_blocks[2], groups)
        self.linear = nn.Linear(out_planes[2], num_classes)

    def _make_layer(self, out_planes, num_blocks, groups):
        layers = []
        for i in range(num_blocks):
            cat_planes = self.in_planes if i == 0 else 0
            layers.append(ShuffleBottleneck(self.in_planes, out_planes - cat_planes,
                                            2 if i == 0 else 1, groups))
            self.in_planes = out_planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))  # avg_pool2d(4) at 32x32


# ---------------------------------------------------------------- ShuffleNetv2.py (net_size 1)
class V2Basic(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        c = in_channels // 2
        self.conv1 = nn.Conv2d(c, c, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x):
        c = x.size(1) // 2
        x1, x2 = x[:, :c], x[:, c:]
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return shuffle(torch.cat([x1, out], 1), 2)


class V2Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        mid = out_channels // 2
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 2, 1, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(in_channels, mid, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, 3, 2, 1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, kernel_size=1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x):
        out1 = self.bn1(self.conv1(x))
        out1 = F.relu(self.bn2(self.conv2(out1)))
        out2 = F.relu(self.bn3(self.conv3(x)))
        out2 = self.bn4(self.conv4(out2))
        out2 = F.relu(self.bn5(self.conv5(out2)))
        return shuffle(torch.cat([out1, out2], 1), 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, num_classes=10, in_ch=3):
        super().__init__()
        out_channels, num_blocks = (116, 232, 464, 1024), (3, 7, 3)
        self.conv1 = nn.Conv2d(in_ch, 24, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_channels = 24
        self.layer1 = self._make_layer(out_channels[0], num_blocks[0])
        self.layer2 = self._make_layer(out_channels[1], num_blocks[1])
        self.layer3 = self._make_layer(out_channels[2], num_blocks[2])
        self.conv2 = nn.Conv2d(out_channels[2], out_channels[3], 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels[3])
        self.linear = nn.Linear(out_channels[3], num_classes)

    def _make_layer(self, out_channels, num_blocks):
        layers = [V2Down(self.in_channels, out_channels)]
        for _ in range(num_blocks):
            layers.append(V2Basic(out_channels))
            self.in_channels = out_channels
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.relu(self.bn2(self.conv2(out)))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))  # avg_pool2d(4) at 32x32


# ---------------------------------------------------------------- torchvision's resnet18/34
class TorchvisionResNet(nn.Module):
    """torchvision.models.resnet (BasicBlock variant): the names of torchvision's checkpoints."""

    def __init__(self, layers, num_classes=1000, in_ch=3):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_ch, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], 2)
        self.layer3 = self._make_layer(256, layers[2], 2)
        self.layer4 = self._make_layer(512, layers[3], 2)
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        for _ in range(1, blocks):
            layers.append(BasicBlock(planes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ---------------------------------------------------------------- the 22 names of crcd's zoo
def create(name, num_classes, in_ch=3):
    resnets = {'resnet8': 8, 'resnet14': 14, 'resnet20': 20, 'resnet32': 32, 'resnet44': 44,
               'resnet56': 56, 'resnet110': 110}
    if name in resnets:
        return ResNet(resnets[name], [16, 16, 32, 64], num_classes, in_ch)
    if name == 'resnet8x4':
        return ResNet(8, [32, 64, 128, 256], num_classes, in_ch)
    if name == 'resnet32x4':
        return ResNet(32, [32, 64, 128, 256], num_classes, in_ch)
    if name.startswith('wrn_'):
        _, d, k = name.split('_')
        return WideResNet(int(d), num_classes, int(k), in_ch)
    if name in VGG_CFG:
        return VGG(VGG_CFG[name], num_classes, in_ch)
    if name == 'MobileNetV2':
        return MobileNetV2(num_classes=num_classes, in_ch=in_ch)
    if name == 'ShuffleV1':
        return ShuffleNetV1(num_classes, in_ch)
    if name == 'ShuffleV2':
        return ShuffleNetV2(num_classes, in_ch)
    if name == 'ResNet50':
        return ResNet50(num_classes, in_ch)
    if name == 'resnet18':
        return TorchvisionResNet([2, 2, 2, 2], num_classes, in_ch)
    if name == 'resnet34':
        return TorchvisionResNet([3, 4, 6, 3], num_classes, in_ch)
    raise ValueError(name)


NAMES = ['resnet8', 'resnet14', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110',
         'resnet8x4', 'resnet32x4', 'wrn_16_1', 'wrn_16_2', 'wrn_40_1', 'wrn_40_2', 'vgg8',
         'vgg11', 'vgg13', 'vgg16', 'vgg19', 'MobileNetV2', 'ShuffleV1', 'ShuffleV2', 'ResNet50']


def low_entropy_(net, zeros=0.6):
    """Random weights and BN statistics: k * 2^e, k small, mostly 0 (exact in float16)."""
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.dtype != torch.float32:
                continue
            n = t.numel()
            if name.endswith('running_var'):
                k = torch.randint(2, 9, t.shape).float() / 4  # 0.5 .. 2
            elif name.endswith('running_mean') or name.endswith('bias'):
                k = torch.randint(-4, 5, t.shape).float() / 8
            elif name.endswith('weight') and t.dim() == 1:  # BN gamma
                k = torch.randint(2, 7, t.shape).float() / 4
            else:  # conv / linear weight: fan-in scaled, 60 % zeros
                fan_in = n // t.shape[0]
                keep = 1.0 - zeros
                scale = 2.0 ** round(math.log2(math.sqrt(2.0 / fan_in) / 2.0 / math.sqrt(keep)))
                k = torch.randint(-3, 4, t.shape).float()
                k[torch.rand(t.shape) < zeros] = 0
                k = k * scale
            t.copy_(k)


def gz(path):
    with open(path, 'rb') as src, open(path + '.gz', 'wb') as raw:
        with gzip.GzipFile('', 'wb', 9, raw, mtime=0) as dst:  # reproducible bytes
            shutil.copyfileobj(src, dst)
    os.remove(path)


def save_both(obj, stem):
    torch.save(obj, stem + '.pth')
    torch.save(obj, stem + '.legacy.pth', _use_new_zipfile_serialization=False)
    gz(stem + '.pth')
    gz(stem + '.legacy.pth')


def fixture(name, classes, wrap=None, half=False, noncontiguous=None, size=32, zeros=0.6,
            legacy=True, offset=None):
    net = create(name, classes)
    low_entropy_(net, zeros)
    net.eval()
    x = (torch.randint(-8, 9, (4, 3, size, size)).float() / 4)
    with torch.no_grad():
        logits = net(x)
    sd = net.state_dict()
    if half:
        sd = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
    if noncontiguous:  # the same values as a transposed view: the file stores strides
        w = sd[noncontiguous]
        sd[noncontiguous] = w.t().contiguous().t()
        assert not sd[noncontiguous].is_contiguous()
    if offset:  # the same values as a slice at storage offset 3 of a longer tensor
        v = sd[offset]
        sd[offset] = torch.cat([torch.zeros(3, dtype=v.dtype), v.flatten()])[3:].view(v.shape)
        assert sd[offset].storage_offset() == 3
    obj = sd if wrap is None else {wrap: sd, 'epoch': 240, 'best_acc': 73.5}
    if legacy:
        save_both(obj, name)
    else:
        torch.save(obj, name + '.pth')
        gz(name + '.pth')
    torch.save({'input': x, 'logits': logits}, name + '.io.pt')
    gz(name + '.io.pt')
    print(name, 'classes', classes, 'top-1', logits.argmax(1).tolist())


if __name__ == '__main__':
    fixture('resnet8', 5, wrap='model')
    fixture('wrn_16_1', 5, wrap='state_dict')
    fixture('vgg8', 3, half=True)
    fixture('MobileNetV2', 5, noncontiguous='classifier.0.weight')
    fixture('ShuffleV1', 4, wrap='net', offset='linear.weight')
    fixture('ShuffleV2', 4, half=True)
    with open('repdistiller_keys.txt', 'w') as f:
        f.write('# model key shape (100 classes, 3 input channels), written by make_fixtures.py\n')
        for name in NAMES:
            for k, v in create(name, 100).state_dict().items():
                f.write('%s %s %s\n' % (name, k, ','.join(str(s) for s in v.shape)))
    # the PyTorch-made teacher of the CLI distillation test (Fashion-MNIST layout)
    fm = create('resnet8', 10, in_ch=1)
    low_entropy_(fm)
    torch.save({'model': fm.state_dict(), 'epoch': 1}, 'fashion_resnet8.pth')
    # torchvision's layout (crcd-models resnet18/resnet34): names and shapes at 1000 classes, and
    # one resnet18 (zip format only, 97 % zero weights to stay small) at 64x64
    with open('torchvision_keys.txt', 'w') as f:
        f.write('# model key shape (1000 classes, 3 input channels), written by make_fixtures.py\n')
        for name in ['resnet18', 'resnet34']:
            for k, v in create(name, 1000).state_dict().items():
                f.write('%s %s %s\n' % (name, k, ','.join(str(s) for s in v.shape)))
    fixture('resnet18', 5, size=64, zeros=0.97, legacy=False, half=True)
    # a whole module pickled instead of its state_dict (an error crcd must name)
    torch.save(nn.Linear(2, 2), 'whole_module.pth')
    print('done')
