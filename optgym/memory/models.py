"""Plain-PyTorch models whose traced graphs became the shipped memory-mapping workloads.

Written for this project from the published architectures (layer shapes only; weights are random,
since only shapes, FLOPs and bytes matter here). Attention is spelled out with matmul/softmax so
that tracing sees every intermediate buffer, as a compiler would before fusion. The environments
never import this module: ``scripts/build_memory_workloads.py`` traces :data:`ZOO` with
``torch.export`` into ``data/workloads/*.json``, which is what they read.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


# ----------------------------------------------------------------------------- ResNet-18
class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs with batch norm and an identity or 1x1 shortcut."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.down is None else self.down(x)
        return F.relu(y + s)


class ResNet18(nn.Module):
    """ResNet-18 (He et al., 2016) for 224x224 ImageNet input."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)
        )
        layers, cin = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.layers(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


# ----------------------------------------------------------------------------- MobileNetV2
class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 linear projection, residual if shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 (Sandler et al., 2018), width 1.0, for 224x224 input."""

    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1)]  # (expand, channels, repeats, stride)

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()]
        cin = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers += [nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


# ----------------------------------------------------------------------------- attention blocks
class SelfAttention(nn.Module):
    """Multi-head self-attention written out (projections, scores, softmax, weighted sum)."""

    def __init__(self, dim: int, heads: int, causal: bool = False, max_len: int = 0):
        super().__init__()
        self.heads, self.dim = heads, dim
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.causal = causal
        if causal:
            mask = torch.full((max_len, max_len), float("-inf")).triu(1)
            self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        h, d = self.heads, self.dim // self.heads
        q = self.q(x).view(b, n, h, d).transpose(1, 2)
        k = self.k(x).view(b, n, h, d).transpose(1, 2)
        v = self.v(x).view(b, n, h, d).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        if self.causal:
            scores = scores + self.mask
        attn = torch.softmax(scores, dim=-1)
        y = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, self.dim)
        return self.out(y)


class BertLayer(nn.Module):
    """One BERT-base encoder layer (post-norm): 768 hidden, 12 heads, 3072 FFN."""

    def __init__(self, dim: int = 768, heads: int = 12, ffn: int = 3072):
        super().__init__()
        self.attn = SelfAttention(dim, heads)
        self.ln1 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn)
        self.fc2 = nn.Linear(ffn, dim)
        self.ln2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class Gpt2Block(nn.Module):
    """One GPT-2-small block (pre-norm, causal): 768 hidden, 12 heads, 3072 MLP."""

    def __init__(self, dim: int = 768, heads: int = 12, seq: int = 128):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, causal=True, max_len=seq)
        self.ln2 = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, 4 * dim)
        self.proj = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class VitBlock(nn.Module):
    """Pre-norm transformer block of ViT."""

    def __init__(self, dim: int, heads: int, mlp: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp)
        self.fc2 = nn.Linear(mlp, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class VitTiny(nn.Module):
    """ViT-Ti/16 (Touvron et al., DeiT-tiny shapes): 192 dim, 12 blocks, 3 heads, 224x224 input."""

    def __init__(self, dim: int = 192, depth: int = 12, heads: int = 3, num_classes: int = 1000):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 16, 16)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, 197, dim))
        self.blocks = nn.Sequential(*[VitBlock(dim, heads, 4 * dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


# ----------------------------------------------------------------------------- UNet
class DoubleConv(nn.Module):
    """Two 3x3 conv + batch norm + ReLU, the UNet stage."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class SmallUNet(nn.Module):
    """A small UNet (Ronneberger et al., 2015): 4 levels from 16 channels, 128x128 input."""

    def __init__(self, cin: int = 3, classes: int = 2, base: int = 16):
        super().__init__()
        c = [base, base * 2, base * 4, base * 8]
        self.enc = nn.ModuleList([DoubleConv(cin, c[0]), DoubleConv(c[0], c[1]), DoubleConv(c[1], c[2])])
        self.mid = DoubleConv(c[2], c[3])
        self.up = nn.ModuleList([nn.ConvTranspose2d(c[i + 1], c[i], 2, 2) for i in (2, 1, 0)])
        self.dec = nn.ModuleList([DoubleConv(2 * c[i], c[i]) for i in (2, 1, 0)])
        self.head = nn.Conv2d(c[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for enc in self.enc:
            x = enc(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.mid(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips), strict=True):
            x = dec(torch.cat([up(x), skip], dim=1))
        return self.head(x)


# ----------------------------------------------------------------------------- more families
class MixerBlock(nn.Module):
    """MLP-Mixer block (Tolstikhin et al., 2021): token-mixing MLP, then channel-mixing MLP."""

    def __init__(self, tokens: int, dim: int, tok_hidden: int, ch_hidden: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.tok1, self.tok2 = nn.Linear(tokens, tok_hidden), nn.Linear(tok_hidden, tokens)
        self.ch1, self.ch2 = nn.Linear(dim, ch_hidden), nn.Linear(ch_hidden, dim)

    def forward(self, x):
        y = self.ln1(x).transpose(1, 2)
        x = x + self.tok2(F.gelu(self.tok1(y))).transpose(1, 2)
        return x + self.ch2(F.gelu(self.ch1(self.ln2(x))))


class Mixer(nn.Module):
    """MLP-Mixer with 16x16 patches on 224x224 input."""

    def __init__(self, dim: int, depth: int, tok_hidden: int, ch_hidden: int):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 16, 16)
        self.blocks = nn.Sequential(*[MixerBlock(196, dim, tok_hidden, ch_hidden) for _ in range(depth)])
        self.head = nn.Linear(dim, 1000)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        return self.head(self.blocks(x).mean(1))


class UnrolledLSTM(nn.Module):
    """Stacked LSTM unrolled over time (cell math spelled out, as a compiler sees it unrolled)."""

    def __init__(self, inp: int, hidden: int, layers: int, steps: int, gru: bool = False):
        super().__init__()
        self.steps, self.gru, self.hidden = steps, gru, hidden
        gates = 3 if gru else 4
        self.wx = nn.ModuleList([nn.Linear(inp if i == 0 else hidden, gates * hidden) for i in range(layers)])
        self.wh = nn.ModuleList([nn.Linear(hidden, gates * hidden, bias=False) for _ in range(layers)])

    def forward(self, x):
        seq = [x[:, t] for t in range(self.steps)]
        for wx, wh in zip(self.wx, self.wh, strict=True):
            h = torch.zeros(x.shape[0], self.hidden, dtype=x.dtype)
            c = torch.zeros_like(h)
            out = []
            for xt in seq:
                if self.gru:
                    gx, gh = wx(xt), wh(h)
                    r, z, n1 = gx.chunk(3, 1)
                    hr, hz, hn = gh.chunk(3, 1)
                    r, z = torch.sigmoid(r + hr), torch.sigmoid(z + hz)
                    h = (1 - z) * torch.tanh(n1 + r * hn) + z * h
                else:
                    i, f, g, o = (wx(xt) + wh(h)).chunk(4, 1)
                    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                    h = torch.sigmoid(o) * torch.tanh(c)
                out.append(h)
            seq = out
        return torch.stack(seq, 1)


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(4 * growth), nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))


class DenseNetLike(nn.Module):
    """DenseNet-style net (Huang et al., 2017): dense blocks whose layers read every earlier
    feature map (concatenated), with 1x1 transitions; 112x112 input."""

    def __init__(self, growth: int = 16, layers: tuple = (4, 6, 8)):
        super().__init__()
        self.stem = nn.Conv2d(3, 2 * growth, 3, 2, 1, bias=False)
        blocks, c = [], 2 * growth
        for i, n in enumerate(layers):
            block = nn.ModuleList()
            for _ in range(n):
                block.append(DenseLayer(c, growth))
                c += growth
            blocks.append(block)
            if i < len(layers) - 1:
                blocks.append(nn.Conv2d(c, c // 2, 1, bias=False))
                c //= 2
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(c, 1000)

    def forward(self, x):
        x = self.stem(x)
        for blk in self.blocks:
            if isinstance(blk, nn.ModuleList):
                feats = [x]
                for layer in blk:
                    feats.append(layer(torch.cat(feats, 1)))
                x = torch.cat(feats, 1)
            else:
                x = F.avg_pool2d(blk(x), 2)
        return self.head(x.mean((2, 3)))


class RMSNorm(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-6) * self.weight


class LlamaBlock(nn.Module):
    """Llama-style decoder block: RMSNorm, causal attention, SwiGLU MLP."""

    def __init__(self, dim: int, heads: int, hidden: int, seq: int):
        super().__init__()
        self.n1, self.n2 = RMSNorm(dim), RMSNorm(dim)
        self.attn = SelfAttention(dim, heads, causal=True, max_len=seq)
        self.w1, self.w3 = nn.Linear(dim, hidden, bias=False), nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        x = x + self.attn(self.n1(x))
        h = self.n2(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class CrossAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.dim = heads, dim
        self.q, self.k, self.v, self.out = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x, mem):
        b, n, _ = x.shape
        m = mem.shape[1]
        h, d = self.heads, self.dim // self.heads
        q = self.q(x).view(b, n, h, d).transpose(1, 2)
        k = self.k(mem).view(b, m, h, d).transpose(1, 2)
        v = self.v(mem).view(b, m, h, d).transpose(1, 2)
        a = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d), -1)
        return self.out(torch.matmul(a, v).transpose(1, 2).reshape(b, n, self.dim))


class DecoderBlock(nn.Module):
    """Transformer decoder block (T5/Vaswani style): causal self-attention, cross-attention to an
    encoder memory, MLP."""

    def __init__(self, dim: int, heads: int, seq: int, mem_len: int):
        super().__init__()
        self.mem_len = mem_len
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.self_attn = SelfAttention(dim, heads, causal=True, max_len=seq)
        self.cross = CrossAttention(dim, heads)
        self.memory = nn.Parameter(torch.zeros(1, mem_len, dim))  # the encoder's output
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        x = x + self.self_attn(self.ln1(x))
        x = x + self.cross(self.ln2(x), self.memory)
        return x + self.fc2(F.relu(self.fc1(self.ln3(x))))


class MoEBlock(nn.Module):
    """Transformer block whose MLP is a mixture of experts; every token goes through all
    experts weighted by a softmax router (dense/soft MoE, so the graph is static)."""

    def __init__(self, dim: int, heads: int, experts: int, hidden: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads)
        self.router = nn.Linear(dim, experts)
        self.up = nn.ModuleList([nn.Linear(dim, hidden) for _ in range(experts)])
        self.down = nn.ModuleList([nn.Linear(hidden, dim) for _ in range(experts)])

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        h = self.ln2(x)
        gate = torch.softmax(self.router(h), -1)
        y = torch.zeros_like(h)
        for e, (up, down) in enumerate(zip(self.up, self.down, strict=True)):
            y = y + gate[..., e:e + 1] * down(F.gelu(up(h)))
        return x + y


class GCN(nn.Module):
    """Graph convolutional network (Kipf & Welling, 2017) on a dense normalized adjacency."""

    def __init__(self, nodes: int, feats: int, hidden: int, layers: int):
        super().__init__()
        self.adj = nn.Parameter(torch.zeros(nodes, nodes))
        dims = [feats] + [hidden] * layers
        self.lins = nn.ModuleList([nn.Linear(dims[i], dims[i + 1]) for i in range(layers)])

    def forward(self, x):
        for lin in self.lins:
            x = F.relu(torch.matmul(self.adj, lin(x)))
        return x


class GAT(nn.Module):
    """Graph attention network (Velickovic et al., 2018), dense masked attention, 4 heads."""

    def __init__(self, nodes: int, feats: int, hidden: int, layers: int, heads: int = 4):
        super().__init__()
        self.mask = nn.Parameter(torch.zeros(heads, nodes, nodes))
        self.heads, self.hidden = heads, hidden
        dims = [feats] + [hidden * heads] * layers
        self.lins = nn.ModuleList([nn.Linear(dims[i], hidden * heads, bias=False) for i in range(layers)])
        self.src = nn.ParameterList([nn.Parameter(torch.zeros(heads, hidden, 1)) for _ in range(layers)])
        self.dst = nn.ParameterList([nn.Parameter(torch.zeros(heads, 1, hidden)) for _ in range(layers)])

    def forward(self, x):
        n = x.shape[0]
        for lin, a_s, a_d in zip(self.lins, self.src, self.dst, strict=True):
            h = lin(x).view(n, self.heads, self.hidden).transpose(0, 1)
            e = F.leaky_relu(torch.matmul(h, a_s) + torch.matmul(a_d, h.transpose(1, 2)), 0.2)
            att = torch.softmax(e + self.mask, -1)
            x = F.elu(torch.matmul(att, h)).transpose(0, 1).reshape(n, -1)
        return x


class DiffusionResBlock(nn.Module):
    """Diffusion-UNet stage (DDPM/Stable-Diffusion style): group-norm ResBlocks with a timestep
    embedding, then a spatial self-attention block."""

    def __init__(self, ch: int, size: int, temb: int = 256, blocks: int = 2):
        super().__init__()
        self.size = size
        self.temb = nn.Parameter(torch.zeros(1, temb))
        self.norms1 = nn.ModuleList([nn.GroupNorm(8, ch) for _ in range(blocks)])
        self.convs1 = nn.ModuleList([nn.Conv2d(ch, ch, 3, padding=1) for _ in range(blocks)])
        self.tproj = nn.ModuleList([nn.Linear(temb, ch) for _ in range(blocks)])
        self.norms2 = nn.ModuleList([nn.GroupNorm(8, ch) for _ in range(blocks)])
        self.convs2 = nn.ModuleList([nn.Conv2d(ch, ch, 3, padding=1) for _ in range(blocks)])
        self.anorm = nn.GroupNorm(8, ch)
        self.attn = SelfAttention(ch, 4)

    def forward(self, x):
        for n1, c1, tp, n2, c2 in zip(self.norms1, self.convs1, self.tproj, self.norms2, self.convs2,
                                      strict=True):
            h = c1(F.silu(n1(x))) + tp(F.silu(self.temb))[:, :, None, None]
            x = x + c2(F.silu(n2(h)))
        b, c, hh, ww = x.shape
        t = self.anorm(x).flatten(2).transpose(1, 2)
        return x + self.attn(t).transpose(1, 2).reshape(b, c, hh, ww)


class ConvNeXtStage(nn.Module):
    """ConvNeXt blocks (Liu et al., 2022): 7x7 depthwise conv, LayerNorm, inverted MLP."""

    def __init__(self, dim: int, depth: int):
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 4, 4)
        self.dw = nn.ModuleList([nn.Conv2d(dim, dim, 7, padding=3, groups=dim) for _ in range(depth)])
        self.ln = nn.ModuleList([nn.LayerNorm(dim) for _ in range(depth)])
        self.fc1 = nn.ModuleList([nn.Linear(dim, 4 * dim) for _ in range(depth)])
        self.fc2 = nn.ModuleList([nn.Linear(4 * dim, dim) for _ in range(depth)])

    def forward(self, x):
        x = self.stem(x)
        for dw, ln, f1, f2 in zip(self.dw, self.ln, self.fc1, self.fc2, strict=True):
            y = ln(dw(x).permute(0, 2, 3, 1))
            x = x + f2(F.gelu(f1(y))).permute(0, 3, 1, 2)
        return x.mean((2, 3))


class VGGSmall(nn.Module):
    """VGG-style CNN (Simonyan & Zisserman, 2015): 3x3 conv stacks and max pooling, 64x64 input."""

    def __init__(self, width: int = 32):
        super().__init__()
        cfg = [width, width, "M", 2 * width, 2 * width, "M", 4 * width, 4 * width, 4 * width, "M",
               8 * width, 8 * width, "M"]
        layers, c = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
                c = v
        self.features = nn.Sequential(*layers)
        self.fc1, self.fc2 = nn.Linear(c * 16, 512), nn.Linear(512, 100)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self.features(x).flatten(1))))


# ----------------------------------------------------------------------------- KV-cache decoding
class KvDecodeStep(nn.Module):
    """One decoding step of a Llama-style block with grouped-query attention over a KV cache:
    the new token's q, k, v, attention over the cache plus the new entry, SwiGLU MLP."""

    def __init__(self, dim: int, heads: int, kv_heads: int, hidden: int):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, dim // heads
        self.norm1, self.norm2 = nn.RMSNorm(dim), nn.RMSNorm(dim)
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * kv_heads * self.hd, bias=False)
        self.o = nn.Linear(dim, dim, bias=False)
        self.gate, self.up = nn.Linear(dim, hidden, bias=False), nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x, k_cache, v_cache):
        b = x.shape[0]
        h = self.norm1(x)
        q = self.q(h).view(b, 1, self.heads, self.hd).transpose(1, 2)
        k, v = self.kv(h).view(b, 1, 2, self.kv_heads, self.hd).unbind(2)
        k = torch.cat([k_cache, k.transpose(1, 2)], 2)
        v = torch.cat([v_cache, v.transpose(1, 2)], 2)
        rep = self.heads // self.kv_heads
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.hd), -1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, 1, -1))
        h = self.norm2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h)), k, v


def _kv_inputs(dim: int, heads: int, kv_heads: int, length: int):
    hd = dim // heads
    return lambda: (torch.randn(1, 1, dim), torch.randn(1, kv_heads, length, hd), torch.randn(1, kv_heads, length, hd))


# ----------------------------------------------------------------------------- WaveNet
class WaveNet(nn.Module):
    """WaveNet-style stack (van den Oord et al., 2016): dilated causal 1-D convolutions with gated
    tanh x sigmoid units, residual and skip connections."""

    def __init__(self, channels: int, layers: int, skip: int = 128):
        super().__init__()
        self.inp = nn.Conv1d(1, channels, 1)
        self.dil = nn.ModuleList([nn.Conv1d(channels, 2 * channels, 2, dilation=2 ** (i % 8)) for i in range(layers)])
        self.res = nn.ModuleList([nn.Conv1d(channels, channels, 1) for _ in range(layers)])
        self.skip = nn.ModuleList([nn.Conv1d(channels, skip, 1) for _ in range(layers)])
        self.out1, self.out2 = nn.Conv1d(skip, skip, 1), nn.Conv1d(skip, 256, 1)

    def forward(self, x):
        x = self.inp(x)
        total = 0
        for dil, res, skip in zip(self.dil, self.res, self.skip, strict=True):
            d = dil.dilation[0]
            a, g = dil(F.pad(x, (d, 0))).chunk(2, 1)
            z = torch.tanh(a) * torch.sigmoid(g)
            x = x + res(z)
            total = total + skip(z)
        return self.out2(F.relu(self.out1(F.relu(total))))


# ----------------------------------------------------------------------------- MBConv + SE
class MBConvSE(nn.Module):
    """EfficientNet's MBConv block (Tan & Le, 2019): 1x1 expand, depthwise conv, squeeze-excite
    (global pool, two 1x1 FCs, sigmoid gate), 1x1 project, residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int = 4, k: int = 3):
        super().__init__()
        h = cin * expand
        self.expand = nn.Sequential(nn.Conv2d(cin, h, 1, bias=False), nn.BatchNorm2d(h), nn.SiLU())
        self.dw = nn.Sequential(nn.Conv2d(h, h, k, stride, k // 2, groups=h, bias=False), nn.BatchNorm2d(h), nn.SiLU())
        self.se1, self.se2 = nn.Conv2d(h, max(8, cin // 4), 1), nn.Conv2d(max(8, cin // 4), h, 1)
        self.proj = nn.Sequential(nn.Conv2d(h, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = self.dw(self.expand(x))
        s = torch.sigmoid(self.se2(F.silu(self.se1(h.mean((2, 3), keepdim=True)))))
        y = self.proj(h * s)
        return x + y if self.residual else y


class EfficientNetStage(nn.Module):
    """A stem and a few MBConv-SE stages (EfficientNet-B0-like widths, scaled)."""

    def __init__(self, width: int, stages: tuple = ((1, 2), (2, 2), (2, 3))):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.SiLU())
        blocks, c = [], width
        for stride, n in stages:
            for i in range(n):
                blocks.append(MBConvSE(c, c * stride if i == 0 else c, stride if i == 0 else 1))
                c = c * stride if i == 0 else c
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(c, 1000)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


# ----------------------------------------------------------------------------- Conformer
class ConformerBlock(nn.Module):
    """Conformer block (Gulati et al., 2020): half-step FFN, self-attention, convolution module
    (pointwise, GLU, depthwise, batch norm, swish, pointwise), half-step FFN, layer norm."""

    def __init__(self, dim: int, heads: int, kernel: int = 15):
        super().__init__()
        self.ff1 = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.SiLU(), nn.Linear(4 * dim, dim))
        self.ff2 = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.SiLU(), nn.Linear(4 * dim, dim))
        self.ln_att, self.att = nn.LayerNorm(dim), SelfAttention(dim, heads)
        self.ln_conv = nn.LayerNorm(dim)
        self.pw1, self.pw2 = nn.Conv1d(dim, 2 * dim, 1), nn.Conv1d(dim, dim, 1)
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.bn, self.ln_out = nn.BatchNorm1d(dim), nn.LayerNorm(dim)

    def forward(self, x):
        x = x + 0.5 * self.ff1(x)
        x = x + self.att(self.ln_att(x))
        c = F.glu(self.pw1(self.ln_conv(x).transpose(1, 2)), 1)
        x = x + self.pw2(F.silu(self.bn(self.dw(c)))).transpose(1, 2)
        return self.ln_out(x + 0.5 * self.ff2(x))


# ----------------------------------------------------------------------------- DLRM
class DLRM(nn.Module):
    """DLRM-style recommender (Naumov et al., 2019): embedding-table lookups for sparse features,
    a bottom MLP for dense ones, pairwise dot-product interaction, a top MLP."""

    def __init__(self, tables: int, rows: int, dim: int, dense: int = 13):
        super().__init__()
        self.emb = nn.ModuleList([nn.Embedding(rows, dim) for _ in range(tables)])
        self.bottom = nn.Sequential(nn.Linear(dense, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                                    nn.Linear(256, dim), nn.ReLU())
        n = tables + 1
        self.top = nn.Sequential(nn.Linear(dim + n * (n - 1) // 2, 512), nn.ReLU(), nn.Linear(512, 256),
                                 nn.ReLU(), nn.Linear(256, 1))
        self.tri = torch.triu_indices(n, n, 1)

    def forward(self, dense, idx):
        z = self.bottom(dense)
        feats = torch.stack([z] + [e(idx[:, i]) for i, e in enumerate(self.emb)], 1)
        inter = (feats @ feats.transpose(1, 2))[:, self.tri[0], self.tri[1]]
        return torch.sigmoid(self.top(torch.cat([z, inter], 1)))


def _dlrm_inputs(batch: int, tables: int, rows: int):
    return lambda: (torch.randn(batch, 13), torch.randint(0, rows, (batch, tables)))


# ----------------------------------------------------------------------------- PointNet
class PointNet(nn.Module):
    """PointNet classifier (Qi et al., 2017): a shared per-point MLP (1x1 convolutions), a global
    max pool over the points, fully connected layers."""

    def __init__(self, widths: tuple = (64, 64, 64, 128, 1024)):
        super().__init__()
        layers, c = [], 3
        for w in widths:
            layers += [nn.Conv1d(c, w, 1), nn.BatchNorm1d(w), nn.ReLU()]
            c = w
        self.mlp = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Linear(c, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 40))

    def forward(self, x):
        return self.fc(self.mlp(x).amax(2))


def _inp(*shape):
    return lambda: (torch.randn(*shape),)


#: name -> (model factory, example-input factory, description, family). The shipped workloads
#: (``data/workloads/*.json``) are traced from these by ``scripts/build_memory_workloads.py``;
#: the environment itself reads only the JSON. Workloads of one family (sizes, batch, sequence
#: length) always share a split (:data:`FAMILY_SPLIT`).
ZOO: dict[str, tuple] = {
    "resnet18": (ResNet18, _inp(1, 3, 224, 224), "ResNet-18, 224x224", "resnet"),
    "mobilenetv2": (MobileNetV2, _inp(1, 3, 224, 224), "MobileNetV2 1.0, 224x224", "mbconv"),
    "effnet-16": (lambda: EfficientNetStage(16), _inp(1, 3, 160, 160), "MBConv-SE stages, width 16, 160x160", "mbconv"),
    "bert-base-layer": (BertLayer, _inp(1, 128, 768), "BERT-base encoder layer, 128 tokens", "bert"),
    "bert-small-layer": (lambda: BertLayer(256, 4, 1024), _inp(1, 128, 256), "BERT-small encoder layer, 256 dim", "bert"),
    "gpt2-block": (Gpt2Block, _inp(1, 128, 768), "GPT-2-small block (causal), 128 tokens", "llm-block"),
    "llama-512": (lambda: LlamaBlock(512, 8, 1408, 128), _inp(1, 128, 512), "Llama-style block, 512 dim, 128 tokens", "llm-block"),
    "unet-16": (SmallUNet, _inp(1, 3, 128, 128), "UNet, 4 levels from 16 channels, 128x128", "unet"),
    "unet-32": (lambda: SmallUNet(base=32), _inp(1, 3, 64, 64), "UNet, 4 levels from 32 channels, 64x64", "unet"),
    "vit-tiny": (VitTiny, _inp(1, 3, 224, 224), "ViT-Ti/16, 12 blocks, 224x224", "vit"),
    "mixer-s4": (lambda: Mixer(256, 4, 128, 1024), _inp(1, 3, 224, 224), "MLP-Mixer, 256 dim, 4 blocks", "mixer"),
    "mixer-b2": (lambda: Mixer(512, 2, 256, 2048), _inp(1, 3, 224, 224), "MLP-Mixer, 512 dim, 2 blocks", "mixer"),
    "lstm-256x12": (lambda: UnrolledLSTM(128, 256, 2, 12), _inp(1, 12, 128), "2-layer LSTM, 256 hidden, 12 steps", "rnn"),
    "gru-384x8": (lambda: UnrolledLSTM(96, 384, 2, 8, gru=True), _inp(1, 8, 96), "2-layer GRU, 384 hidden, 8 steps", "rnn"),
    "moe-4e": (lambda: MoEBlock(512, 8, 4, 1024), _inp(1, 128, 512), "MoE block, 4 experts, 512 dim", "moe"),
    "moe-8e": (lambda: MoEBlock(384, 6, 8, 768), _inp(1, 64, 384), "MoE block, 8 experts, 384 dim", "moe"),
    "gcn-1k": (lambda: GCN(1024, 128, 128, 3), _inp(1024, 128), "GCN, 1024 nodes, 3 layers", "gnn"),
    "gat-512": (lambda: GAT(512, 64, 32, 2), _inp(512, 64), "GAT, 512 nodes, 2 layers, 4 heads", "gnn"),
    "diffusion-64": (lambda: DiffusionResBlock(64, 32), _inp(1, 64, 32, 32), "diffusion ResBlocks + attention, 64 ch, 32x32", "diffusion"),
    "diffusion-128": (lambda: DiffusionResBlock(128, 16), _inp(1, 128, 16, 16), "diffusion ResBlocks + attention, 128 ch, 16x16", "diffusion"),
    "convnext-96": (lambda: ConvNeXtStage(96, 3), _inp(1, 3, 224, 224), "ConvNeXt stage, 96 dim, 3 blocks", "convnext"),
    "decoder-512": (lambda: DecoderBlock(512, 8, 64, 64), _inp(1, 64, 512), "decoder block with cross-attention, 512 dim", "encdec"),
    "decoder-768": (lambda: DecoderBlock(768, 12, 32, 96), _inp(1, 32, 768), "decoder block with cross-attention, 768 dim", "encdec"),
    "densenet-g16": (DenseNetLike, _inp(1, 3, 112, 112), "DenseNet-like, growth 16, 112x112", "densenet"),
    "densenet-g12": (lambda: DenseNetLike(12, (4, 6, 6)), _inp(1, 3, 96, 96), "DenseNet-like, growth 12, 96x96", "densenet"),
    "vgg-32": (VGGSmall, _inp(1, 3, 64, 64), "VGG-style CNN, width 32, 64x64", "vgg"),
    "kvdecode-512": (lambda: KvDecodeStep(512, 8, 2, 1408), _kv_inputs(512, 8, 2, 1024),
                     "decode step, GQA 8q/2kv heads, 512 dim, 1024 cached tokens", "kv-decode"),
    "kvdecode-768": (lambda: KvDecodeStep(768, 12, 4, 2048), _kv_inputs(768, 12, 4, 512),
                     "decode step, GQA 12q/4kv heads, 768 dim, 512 cached tokens", "kv-decode"),
    "wavenet-64x8": (lambda: WaveNet(64, 8), _inp(1, 1, 2048), "WaveNet, 64 channels, 8 dilated layers, 2048 samples", "wavenet"),
    "wavenet-96x6": (lambda: WaveNet(96, 6), _inp(1, 1, 1024), "WaveNet, 96 channels, 6 dilated layers, 1024 samples", "wavenet"),
    "conformer-144": (lambda: ConformerBlock(144, 4), _inp(1, 128, 144), "Conformer block, 144 dim, 128 frames", "conformer"),
    "conformer-256": (lambda: ConformerBlock(256, 4), _inp(1, 64, 256), "Conformer block, 256 dim, 64 frames", "conformer"),
    "dlrm-8x64": (lambda: DLRM(8, 20000, 64), _dlrm_inputs(128, 8, 20000), "DLRM, 8 tables of 20k x 64, batch 128", "dlrm"),
    "dlrm-16x32": (lambda: DLRM(16, 10000, 32), _dlrm_inputs(256, 16, 10000), "DLRM, 16 tables of 10k x 32, batch 256", "dlrm"),
    "pointnet-1k": (PointNet, _inp(1, 3, 1024), "PointNet, 1024 points", "pointnet"),
    "pointnet-2k": (lambda: PointNet((64, 128, 128, 256, 512)), _inp(2, 3, 2048), "PointNet (narrower), 2x2048 points", "pointnet"),
}

#: Families -> split. Whole families are held out: validation families choose every setting,
#: test families are only measured. The test families cover the kinds issue 25 names
#: (KV-cache decoding, recurrent, convolutional, recommender, point cloud) plus one more.
FAMILY_SPLIT: dict[str, str] = {
    "resnet": "train", "mbconv": "train", "bert": "train", "llm-block": "train", "unet": "train",
    "vit": "train", "gnn": "train", "diffusion": "train", "convnext": "train", "vgg": "train",
    "mixer": "validation", "moe": "validation", "encdec": "validation", "wavenet": "validation",
    "kv-decode": "test", "rnn": "test", "densenet": "test", "dlrm": "test", "pointnet": "test",
    "conformer": "test",
}
