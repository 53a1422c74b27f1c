"""Shape rules of convolutions, pooling and reductions, as the notes write them (CLAIMS.md E1-E11, F3)."""

from __future__ import annotations

from derivations import notes_modules
from derivations.activation_facts import S001, S004
from derivations.model import Claim, Source

CONV = "卷积神经网络 / 卷积的步长 / 输出尺寸计算"


def _reduce_shape(shape: tuple[int, ...], dim: int, keepdim: bool) -> tuple[int, ...]:
    """F3 as written: reducing over a dim removes it, unless keepdim=True keeps it (as size 1)."""
    d = dim % len(shape)
    return shape[:d] + ((1,) if keepdim else ()) + shape[d + 1 :]


CLAIMS = (
    Claim(
        name="conv_output_size",
        title="output size (H, W) = floor((in − kernel + 2·padding) / stride)",
        source=Source(
            S004, CONV, "(高,宽)=(⌊(in_h−kernel_h+2padding)/stride⌋, ⌊(in_w−kernel_w+2padding)/stride⌋)", ("E1",)
        ),
        method="numerical",
        statement={"size": lambda n, k, p, s: (n - k + 2 * p) // s},
    ),
    Claim(
        name="conv_worked_sizes",
        title="worked sizes: 5−3+1=3 (stride 1), (5−3)/2+1=2 (stride 2), (6−3)/3+1=2 (stride 3); H−H'+1",
        source=Source(S004, CONV, "5-3+1=3; (5-3)/2+1=2; (6-3)/3+1=2; 高-高'+1=高2", ("E2",)),
        method="numerical",
        # (in, kernel, stride) -> the output the notes compute, and the rule their arithmetic uses.
        statement={
            "examples": {(5, 3, 1): 3, (5, 3, 2): 2, (6, 3, 3): 2},
            "size": lambda n, k, p, s: (n - k + 2 * p) // s + 1,
        },
    ),
    Claim(
        name="conv_kernel_shape",
        title="kernel shape (out_channels, in_channels, h, w); one kernel per output channel, summing all inputs",
        source=Source(
            S004,
            "输出通道数",
            "kernel=(kernel_num=out_channel,kernel_channel=in_channel,高',宽'); 输出通道数=卷积核数量",
            ("E3",),
        ),
        method="numerical",
        statement={"weight_shape": lambda out_c, in_c, kh, kw: (out_c, in_c, kh, kw), "sums_input_channels": True},
    ),
    Claim(
        name="conv1x1_mixes_channels",
        title="a 1×1 convolution changes the channel count and keeps H, W: a per-pixel mix of channels",
        source=Source(S004, "1维卷积核 1*1", "改变通道数量 ... 1维卷积核是3维的=(通道数,1,1)", ("E4",)),
        method="numerical",
        statement={"mix": "nchw,oc->nohw"},
    ),
    Claim(
        name="conv1x1_lossless",
        title="a 1×1 convolution changes the number of channels without losing information",
        source=Source(S004, "1维卷积核 1*1", "未损失信息的情况下,改变通道数量", ("E4",)),
        method="numerical",
        interpretation="'without losing information' read as injective: distinct inputs give distinct outputs, so "
        "the input can be recovered. The channel changes are those of the note's Inception code: in_channels 10 "
        "(incept1) or 20 (incept2) to 16 or 24",
        statement={"channels": ((10, 16), (10, 24), (20, 16), (20, 24)), "lossless": True},
    ),
    Claim(
        name="conv1x1_reduces_computation",
        title="a 1×1 convolution reduces computation: Inception's 1×1 to 16 channels before its 5×5, vs the 5×5 alone",
        source=Source(S004, "1维卷积核 1*1", "未损失信息的情况下,改变通道数量,降低计算量", ("E4",)),
        method="numerical",
        interpretation="the note does not say against what; read as the bottleneck of its own Inception code: "
        "branch5x5_1 (1×1, in → 16) then branch5x5_2 (5×5, 16 → 24, padding 2) against one 5×5 convolution in → 24, "
        "in multiply-adds, at the inputs the note's Net gives them (10 channels of 12×12, 20 of 4×4)",
        statement={"build": notes_modules.inception, "inputs": ((10, 12), (20, 4)), "reduces": True},
    ),
    Claim(
        name="conv_reduces_computation",
        title="a convolution kernel (filter, weights) reduces computation, against a fully connected layer",
        source=Source(S004, "卷积层", "卷积核=filter滤波器=权值w:不减少信息的情况下,降低计算量", ("E4",)),
        method="numerical",
        interpretation="against a fully connected layer with the same numbers in and out (the note contrasts the "
        "two, 与全连接时区别), for every convolution of the note's Net at its own input size; multiply-adds counted "
        "as a convolution needs them, the kernel taps that fall on the input (zero padding is not multiplied); the "
        "count torch's padded conv2d performs is reported beside it",
        statement={"build": notes_modules.net, "input": (1, 28, 28), "fewer": True},
    ),
    Claim(
        name="conv_keeps_information",
        title="a convolution kernel reduces computation without reducing information",
        source=Source(S004, "卷积层", "卷积核=filter滤波器=权值w:不减少信息的情况下,降低计算量", ("E4",)),
        method="numerical",
        interpretation="'without reducing information' read as injective (the input can be recovered from the "
        "output), for the convolution layers of the note's Net, conv1 and conv2: valid 5×5 convolutions "
        "(高-高'+1=高2)",
        statement={"build": notes_modules.net, "input": (1, 28, 28), "layers": ("conv1", "conv2"), "lossless": True},
    ),
    Claim(
        name="pooling_halves",
        title="pooling of size 2 keeps the channels and halves H and W: (H, W) -> (H/2, W/2)",
        source=Source(S004, "池化层/下采样层", "图像的通道数不变,宽和高改变 (高,宽)->(高/2,宽/2) 池化=2", ("E5",)),
        method="numerical",
        statement={"size": lambda n: n / 2, "window": 2},
    ),
    Claim(
        name="inception_channels",
        title="Inception: every branch keeps H and W; the concatenation has 16+24+24+24 = 88 channels",
        source=Source(S004, "Inception Module", "24+16+24+24=88", ("E6",)),
        method="numerical",
        statement={
            "build": notes_modules.inception,
            "branches": {"branch1x1": 16, "branch5x5": 24, "branch3x3": 24, "branch_pool": 24},
            "total": 88,
        },
    ),
    Claim(
        name="net_shape_trace",
        title="the example Net: 28×28 -> 24 -> 12 -> 88@12 -> 20@8 -> 4 -> 88@4 -> 1408 -> 10",
        source=Source(
            S004,
            "class Net",
            "(batch_size,88,4,4)->(batch_size,1408); self.full_conn=torch.nn.Linear(1408, 10)",
            ("E7",),
        ),
        method="numerical",
        statement={
            "build": notes_modules.net,
            "input": (1, 28, 28),
            "trace": {
                "conv1": (10, 24, 24),
                "max_pooling(conv1)": (10, 12, 12),
                "incept1": (88, 12, 12),
                "conv2": (20, 8, 8),
                "max_pooling(conv2)": (20, 4, 4),
                "incept2": (88, 4, 4),
                "full_conn input": (1408,),
                "full_conn": (10,),
            },
        },
    ),
    Claim(
        name="residual_block_shape",
        title="ResidualBlock: two 3×3 convolutions with padding 1 keep (N, C, H, W); relu(x + conv2(relu(conv1(x))))",
        source=Source(S004, "ResidualBlock", "h+2*1-3+1=h; return F.relu(x+y)", ("E8",)),
        method="numerical",
        statement={"build": notes_modules.residual_block},
    ),
    Claim(
        name="two_3x3_for_5x5",
        title="two stacked 3×3 convolutions stand in for one 5×5",
        source=Source(S004, "Inception Module 结构", "一个5×5个卷积核,同两次3×3的卷积核", ("E9",)),
        method="numerical",
        statement={"stacked": (3, 3), "single": 5},
    ),
    Claim(
        name="keepdim_shapes",
        title="reducing over a dim removes that dim unless keepdim=True",
        source=Source(S001, "dim、keepdim", "会自动消减一个维度 ... 可以设置keepdim=True", ("F3",)),
        method="numerical",
        statement={"shape": _reduce_shape},
    ),
    Claim(
        name="conv_io_four_dimensional",
        title="a convolution layer's inputs and outputs are 4-D (a fully connected layer's are 2-D)",
        source=Source(
            S004, "与全连接时区别", "全连接层的输入输出数据是二维[n,features]; 卷积层的输入输出都是四维", ("E10",)
        ),
        method="numerical",
        statement={"conv_ndim": 4, "linear_ndim": 2},
    ),
    Claim(
        name="conv_layout_width_height",
        title="a convolution layer's data is laid out [n, chanel_num, width, height]",
        source=Source(S004, "与全连接时区别", "卷积层的输入输出都是四维[n,chanel_num,width,height]", ("E10",)),
        method="numerical",
        interpretation="height and width as the note names them elsewhere: the kernel's (高', 宽') in "
        "(out_channel, in_channel, 高', 宽') and torch's kernel_size (kH, kW); an axis is the height when the "
        "kernel's height shrinks it",
        statement={"layout": ("n", "channels", "width", "height")},
    ),
    Claim(
        name="inception_concat_comment",
        title="the Inception code's comment: '-1 means concatenating along the channel dimension'",
        source=Source(
            S004, "Inception Module 代码", "#(batch_size,channel,h,w) -1指的是在通道维度拼接 24+16+24+24=88", ("E11",)
        ),
        method="numerical",
        statement={"dim": -1, "layout": ("batch_size", "channel", "h", "w"), "axis": "channel"},
    ),
    Claim(
        name="fc_comment_320",
        title="the Net's comment '(batch_size,320)->(batch_size,10)' next to Linear(1408, 10)",
        source=Source(S004, "Inception Module 代码", "#全连接层 (batch_size,320)->(batch_size,10)", ("E11",)),
        method="numerical",
        statement={"build": notes_modules.net, "input": (2, 1, 28, 28), "features": 320},
    ),
)
