"""Submissions the autograder must grade right: typical mistakes and other correct answers.

Each :class:`Variant` starts from the reference answers and replaces some
solution cells. ``loses`` names the test cells (grade_ids) that must score 0;
every other test cell must keep full marks. A variant with an empty ``loses``
is another correct answer, which must get full marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    name: str
    answers: dict[str, str]
    loses: frozenset[str] = field(default_factory=frozenset)
    why: str = ""


def _conv_by_hand(body: str) -> str:
    return f"""def conv2d_by_hand(image, kernel, padding=0, stride=1):
{body}
"""


_LOOPS = """    kh, kw = kernel.shape
    padded = torch.zeros(image.shape[0] + 2 * padding, image.shape[1] + 2 * padding)
    padded[padding : padding + image.shape[0], padding : padding + image.shape[1]] = image
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = torch.zeros(h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = (padded[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel).sum()
    return out"""

_LAYER = """class ConvolutionalLayer(nn.Module):
    def __init__(self, c_in=1, c_out=6, K=7, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=K, stride=1, padding={padding})
        if filters is not None:
            with torch.no_grad():
                self.conv.weight.copy_(filters)
                {bias}

    def forward(self, s):
        return self.conv(s)
"""

CONV_TESTS = frozenset(
    {
        "test_conv2d_by_hand_cross_correlation",
        "test_conv2d_by_hand_padding",
        "test_conv2d_by_hand_stride",
        "test_conv2d_by_hand_padding_and_stride",
        "test_conv2d_by_hand_no_library",
    }
)

T2_MISTAKES = [
    Variant(
        "true_convolution",
        {"conv2d_by_hand": _conv_by_hand(_LOOPS.replace("* kernel).sum()", "* kernel.flip(0, 1)).sum()"))},
        CONV_TESTS,
        "flips the kernel: the mathematical convolution, not PyTorch's cross-correlation",
    ),
    Variant(
        "ignores_padding",
        {"conv2d_by_hand": _conv_by_hand("    padding = 0\n" + _LOOPS)},
        frozenset({"test_conv2d_by_hand_padding", "test_conv2d_by_hand_padding_and_stride"}),
    ),
    Variant(
        "ignores_stride",
        {"conv2d_by_hand": _conv_by_hand("    stride = 1\n" + _LOOPS)},
        frozenset({"test_conv2d_by_hand_stride", "test_conv2d_by_hand_padding_and_stride"}),
    ),
    Variant(
        "off_by_one_output_in_conv2d_by_hand",
        {"conv2d_by_hand": _conv_by_hand(_LOOPS.replace("// stride + 1", "// stride"))},
        CONV_TESTS,
    ),
    Variant(
        "calls_conv2d",
        {
            "conv2d_by_hand": _conv_by_hand(
                "    return F.conv2d(image[None, None], kernel[None, None], padding=padding, stride=stride)[0, 0]"
            )
        },
        frozenset({"test_conv2d_by_hand_no_library"}),
    ),
    Variant(
        "calls_imported_conv2d",
        {
            "conv2d_by_hand": "from torch.nn.functional import conv2d as c2d\n\n\n"
            + _conv_by_hand(
                "    return c2d(image[None, None], kernel[None, None], padding=padding, stride=stride)[0, 0]"
            )
        },
        frozenset({"test_conv2d_by_hand_no_library"}),
    ),
    Variant(
        "off_by_one_output_shape",
        {
            "conv_output_shape": "def conv_output_shape(h, w, K, padding=0, stride=1):\n"
            "    return (h + 2 * padding - K) // stride, (w + 2 * padding - K) // stride\n"
        },
        frozenset({"test_conv_output_shape_stride_1", "test_conv_output_shape_stride"}),
    ),
    Variant(
        "output_shape_true_division",
        {
            "conv_output_shape": "def conv_output_shape(h, w, K, padding=0, stride=1):\n"
            "    return (h + 2 * padding - K) / stride + 1, (w + 2 * padding - K) / stride + 1\n"
        },
        frozenset({"test_conv_output_shape_stride"}),
        "true division gives floats such as 21.5 when the stride does not divide evenly",
    ),
    Variant(
        "layer_pads_K",
        {"convolutional_layer": _LAYER.format(padding="K", bias="self.conv.bias.zero_()")},
        frozenset({"test_layer_structure", "test_layer_forward", "test_convout"}),
    ),
    Variant(
        "layer_keeps_random_bias",
        {"convolutional_layer": _LAYER.format(padding="K // 2", bias="pass")},
        frozenset({"test_layer_filters", "test_layer_forward", "test_convout"}),
    ),
    Variant(
        "stimuli_in_wrong_order",
        {
            "grating_responses": "stimuli = gratings([90, 45, 0, -45, -90])\n"
            "layer = ConvolutionalLayer(filters=filter_bank(6, 7))\n"
            "with torch.no_grad():\n    convout = layer(stimuli)\n"
        },
        frozenset({"test_stimuli", "test_convout"}),
    ),
    Variant(
        "dense_counts_only_outputs",
        {
            "parameter_counts": "def n_conv_parameters(c_in, c_out, K):\n    return c_out * c_in * K * K + c_out\n\n\n"
            "def n_dense_parameters(h, w, c_in, c_out):\n    return (h * w) * c_out + c_out\n"
        },
        frozenset({"test_n_dense_parameters"}),
        "counts (H*W)*C_out + C_out",
    ),
    Variant(
        "conv_count_without_bias",
        {
            "parameter_counts": "def n_conv_parameters(c_in, c_out, K):\n    return c_out * c_in * K * K\n\n\n"
            "def n_dense_parameters(h, w, c_in, c_out):\n    return (c_in * h * w) * (c_out * h * w) + c_out * h * w\n"
        },
        frozenset({"test_n_conv_parameters"}),
    ),
    Variant(
        "weights_not_detached",
        {"layer_weights": "weights = layer.conv.weight\n"},
        frozenset({"test_weights"}),
    ),
    Variant(
        "energy_not_squared",
        {
            "complex_cell_energy": "def complex_cell_energy(stimuli, even, odd):\n"
            "    K = even.shape[-1]\n"
            "    return (F.conv2d(stimuli, even[None, None], padding=K // 2).abs()\n"
            "            + F.conv2d(stimuli, odd[None, None], padding=K // 2).abs())\n"
        },
        frozenset({"test_complex_cell_energy"}),
    ),
]

T2_CORRECT = [
    Variant(
        "unfold_windows",
        {
            "conv2d_by_hand": _conv_by_hand(
                "    kh, kw = kernel.shape\n"
                "    padded = torch.nn.functional.pad(image, (padding, padding, padding, padding))\n"
                "    windows = padded.unfold(0, kh, stride).unfold(1, kw, stride)\n"
                "    return (windows * kernel).sum(dim=(-2, -1))"
            )
        },
    ),
    Variant(
        "numpy_loops_returning_tensor",
        {
            "conv2d_by_hand": "import numpy as np\n\n\n"
            + _conv_by_hand(
                "    img = np.pad(image.numpy(), padding)\n"
                "    k = kernel.numpy()\n"
                "    kh, kw = k.shape\n"
                "    rows = range(0, img.shape[0] - kh + 1, stride)\n"
                "    cols = range(0, img.shape[1] - kw + 1, stride)\n"
                "    return torch.tensor([[float((img[r:r + kh, c:c + kw] * k).sum()) for c in cols] for r in rows])"
            )
        },
    ),
    Variant(
        "warns_and_writes_to_stderr",
        {
            "conv2d_by_hand": "import sys\nimport warnings\n\n\n"
            + _conv_by_hand('    warnings.warn("slow loops ahead")\n    print("debug", file=sys.stderr)\n' + _LOOPS),
            "convolutional_layer": _LAYER.format(padding="K // 2", bias="self.conv.bias.zero_()").replace(
                "self.conv.weight.copy_(filters)", "self.conv.weight.copy_(torch.tensor(filters))"
            ),
        },
        why="torch.tensor(tensor) emits a UserWarning; warnings must not cost points",
    ),
    Variant(
        "layer_with_parameter_and_no_bias",
        {
            "convolutional_layer": "class ConvolutionalLayer(nn.Module):\n"
            "    def __init__(self, c_in=1, c_out=6, K=7, filters=None):\n"
            "        super().__init__()\n"
            "        self.conv = nn.Conv2d(c_in, c_out, K, padding='same', bias=filters is None)\n"
            "        if filters is not None:\n"
            "            self.conv.weight = nn.Parameter(filters.clone())\n\n"
            "    def forward(self, s):\n"
            "        return self.conv(s)\n"
        },
    ),
    Variant(
        "shape_as_list_of_numpy_ints",
        {
            "conv_output_shape": "import numpy as np\n\n\ndef conv_output_shape(h, w, K, padding=0, stride=1):\n"
            "    size = (np.array([h, w]) + 2 * padding - K) // stride + 1\n"
            "    return [size[0], size[1]]\n"
        },
    ),
]

_NET = """class DeepNetReLU(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_outputs=1):
        super().__init__()
        self.in_layer = nn.Linear(n_inputs, n_hidden)
        self.out_layer = nn.Linear(n_hidden, n_outputs)

    def forward(self, r):
        return {body}
"""

_TRAIN = """def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    optimizer = torch.optim.{optimizer}(net.parameters(), lr=learning_rate)
    losses = []
    for _ in range(n_epochs):
        {zero_grad}
        loss = loss_fn(net(inputs), targets)
        {record}
        loss.backward()
        {step}
    return losses
"""


def _train(
    optimizer="SGD", zero_grad="optimizer.zero_grad()", record="losses.append(loss.item())", step="optimizer.step()"
):
    return _TRAIN.format(optimizer=optimizer, zero_grad=zero_grad, record=record, step=step)


def _circular(body: str) -> str:
    return f"def circular_error(pred, true, period=360.0):\n{body}\n"


FORWARD = frozenset({"test_net_forward"})
CIRCULAR = frozenset({"test_circular_error", "test_circular_error_period"})

T1_MISTAKES = [
    Variant("no_relu", {"deep_net_relu": _NET.format(body="self.out_layer(self.in_layer(r))")}, FORWARD),
    Variant(
        "relu_at_the_output_too",
        {"deep_net_relu": _NET.format(body="torch.relu(self.out_layer(torch.relu(self.in_layer(r))))")},
        FORWARD,
    ),
    Variant(
        "sigmoid_hidden",
        {"deep_net_relu": _NET.format(body="self.out_layer(torch.sigmoid(self.in_layer(r)))")},
        FORWARD,
    ),
    Variant(
        "mse_sums",
        {"mse": "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).sum()\n"},
        frozenset({"test_mse"}),
    ),
    Variant(
        "mse_absolute",
        {"mse": "def mse(y_pred, y_true):\n    return (y_pred - y_true).abs().mean()\n"},
        frozenset({"test_mse"}),
    ),
    Variant("train_without_zero_grad", {"train": _train(zero_grad="pass")}, frozenset({"test_train_sgd"})),
    Variant(
        "train_without_step",
        {"train": _train(step="pass")},
        frozenset({"test_train_losses", "test_train_sgd"}),
    ),
    Variant(
        "train_records_loss_after_step",
        {
            "train": _train(
                record="pass", step="optimizer.step()\n        losses.append(loss_fn(net(inputs), targets).item())"
            )
        },
        frozenset({"test_train_sgd"}),
    ),
    Variant("train_with_adam", {"train": _train(optimizer="Adam")}, frozenset({"test_train_sgd"})),
    Variant("circular_without_wrap", {"circular_error": _circular("    return (pred - true).abs()")}, CIRCULAR),
    Variant(
        "circular_ignores_period",
        {
            "circular_error": _circular(
                "    diff = torch.remainder(pred - true, 360.0)\n    return torch.minimum(diff, 360.0 - diff)"
            )
        },
        frozenset({"test_circular_error_period"}),
    ),
    Variant(
        "forward_is_the_bias_of_a_zeroed_output_layer",
        {
            "deep_net_relu": _NET.format(body="self.out_layer.bias.expand(len(r), -1)").replace(
                "self.out_layer = nn.Linear(n_hidden, n_outputs)\n",
                "self.out_layer = nn.Linear(n_hidden, n_outputs)\n        nn.init.zeros_(self.out_layer.weight)\n",
            )
        },
        frozenset({"test_net_forward"}),
        "no forward computation: an expected value read back from the student's weights would agree",
    ),
]

T1_CORRECT = [
    Variant(
        "net_with_functional_relu", {"deep_net_relu": _NET.format(body="self.out_layer(F.relu(self.in_layer(r)))")}
    ),
    Variant(
        "train_by_hand",
        {
            "train": "def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):\n"
            "    losses = []\n"
            "    for _ in range(n_epochs):\n"
            "        loss = loss_fn(net(inputs), targets)\n"
            "        losses.append(float(loss))\n"
            "        grads = torch.autograd.grad(loss, list(net.parameters()))\n"
            "        with torch.no_grad():\n"
            "            for p, g in zip(net.parameters(), grads):\n"
            "                p -= learning_rate * g\n"
            "    return losses\n"
        },
    ),
    Variant(
        "zero_grad_after_step",
        {"train": _train(zero_grad="pass", step="optimizer.step()\n        optimizer.zero_grad()")},
    ),
    Variant(
        "circular_by_shifting",
        {
            "circular_error": _circular(
                "    return (torch.remainder(pred - true + period / 2, period) - period / 2).abs()"
            )
        },
    ),
]

_CONVNET = """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(1, c_out, kernel_size=K, padding={padding})
        if filters is not None:
            with torch.no_grad():
                {load}
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)
        self.out = nn.Linear(n_hidden, 1)

    def forward(self, s):
        {body}
"""

_FORWARD = (
    "x = F.max_pool2d(torch.relu(self.conv(s)), 8)\n"
    "        x = torch.relu(self.fc(x.flatten(1)))\n"
    "        return torch.sigmoid(self.out(x))"
)
_LOAD = "self.conv.weight.copy_(filters)\n                self.conv.bias.zero_()"


def _forward(old: str = "", new: str = "", padding: str = "K // 2", load: str = _LOAD) -> dict[str, str]:
    """The reference ConvNet with ``old`` replaced by ``new`` in forward(), and the given padding and loading."""
    assert old in _FORWARD, old
    body = _FORWARD.replace(old, new) if old else _FORWARD
    return {"convnet": _CONVNET.format(padding=padding, load=load, body=body)}


def _fn(name: str, args: str, body: str) -> str:
    return f"def {name}({args}):\n" + "".join(f"    {line}\n" for line in body.splitlines())


def _rdm(body: str) -> dict[str, str]:
    return {"rdm": _fn("rdm", "resp", body)}


def _correlate(body: str) -> dict[str, str]:
    return {"correlate_rdms": _fn("correlate_rdms", "rdm1, rdm2", body)}


_ZSCORE_ROWS = (
    "resp = torch.as_tensor(resp, dtype=torch.float64)\n"
    "z = (resp - resp.mean(1, keepdim=True)) / resp.std(1, unbiased=False, keepdim=True)\n"
)
CONVNET_FORWARD = frozenset({"test_convnet_forward"})
RDM_BOTH = frozenset({"test_rdm_properties", "test_rdm_values"})
CORRELATE = frozenset({"test_correlate_rdms"})

T3_MISTAKES = [
    Variant(
        "convnet_without_sigmoid",
        _forward("return torch.sigmoid(self.out(x))", "return self.out(x)"),
        frozenset({"test_convnet_forward", "test_trained_network"}),
    ),
    Variant("convnet_without_hidden_relu", _forward("torch.relu(self.fc(", "(self.fc("), CONVNET_FORWARD),
    Variant("convnet_without_conv_relu", _forward("torch.relu(self.conv(s))", "self.conv(s)"), CONVNET_FORWARD),
    Variant("convnet_average_pooling", _forward("F.max_pool2d(", "F.avg_pool2d("), CONVNET_FORWARD),
    Variant(
        "convnet_channels_last_flatten", _forward("x.flatten(1)", "x.permute(0, 2, 3, 1).flatten(1)"), CONVNET_FORWARD
    ),
    Variant(
        "convnet_ignores_filters",
        _forward(load="pass"),
        frozenset({"test_convnet_filters"}),
    ),
    Variant(
        "convnet_keeps_random_bias",
        _forward(load="self.conv.weight.copy_(filters)"),
        frozenset({"test_convnet_filters"}),
    ),
    Variant(
        "convnet_without_padding",
        _forward(padding="0"),
        frozenset({"test_convnet_structure", "test_convnet_forward", "test_trained_network"}),
    ),
    Variant(
        "accuracy_counts",
        {
            "accuracy": _fn(
                "accuracy", "probabilities, labels", "return ((probabilities > 0.5).float() == labels).sum().item()"
            )
        },
        frozenset({"test_accuracy"}),
    ),
    Variant(
        "accuracy_compares_probabilities",
        {
            "accuracy": _fn(
                "accuracy", "probabilities, labels", "return (probabilities == labels).float().mean().item()"
            )
        },
        frozenset({"test_accuracy"}),
    ),
    Variant(
        "rdm_zscores_columns",
        _rdm(
            "resp = torch.as_tensor(resp, dtype=torch.float64)\n"
            "z = (resp - resp.mean(0, keepdim=True)) / resp.std(0, unbiased=False, keepdim=True)\n"
            "return 1 - z @ z.T / resp.shape[1]"
        ),
        RDM_BOTH,
    ),
    Variant("rdm_is_correlation", _rdm(_ZSCORE_ROWS + "return z @ z.T / resp.shape[1]"), RDM_BOTH),
    Variant(
        "rdm_without_zscore",
        _rdm("resp = torch.as_tensor(resp, dtype=torch.float64)\nreturn 1 - resp @ resp.T / resp.shape[1]"),
        RDM_BOTH,
    ),
    Variant(
        "rdm_unbiased_std_divided_by_m",
        _rdm(
            "resp = torch.as_tensor(resp, dtype=torch.float64)\n"
            "z = (resp - resp.mean(1, keepdim=True)) / resp.std(1, keepdim=True)\n"
            "return 1 - z @ z.T / resp.shape[1]"
        ),
        RDM_BOTH,
    ),
    Variant(
        "rdm_absolute_correlation",
        _rdm(_ZSCORE_ROWS + "return 1 - (z @ z.T / resp.shape[1]).abs()"),
        frozenset({"test_rdm_values"}),
    ),
    Variant(
        "correlate_with_diagonal",
        _correlate(
            "a, b = torch.as_tensor(rdm1).flatten().double(), torch.as_tensor(rdm2).flatten().double()\n"
            "return float(torch.corrcoef(torch.stack([a, b]))[0, 1])"
        ),
        CORRELATE,
    ),
    Variant(
        "correlate_spearman",
        _correlate(
            "rows, cols = torch.triu_indices(len(rdm1), len(rdm1), offset=1)\n"
            "a = torch.as_tensor(rdm1)[rows, cols].argsort().argsort().double()\n"
            "b = torch.as_tensor(rdm2)[rows, cols].argsort().argsort().double()\n"
            "return float(torch.corrcoef(torch.stack([a, b]))[0, 1])"
        ),
        CORRELATE,
    ),
    Variant(
        "correlate_covariance",
        _correlate(
            "rows, cols = torch.triu_indices(len(rdm1), len(rdm1), offset=1)\n"
            "a, b = torch.as_tensor(rdm1)[rows, cols].double(), torch.as_tensor(rdm2)[rows, cols].double()\n"
            "return float(((a - a.mean()) * (b - b.mean())).mean())"
        ),
        CORRELATE,
    ),
]

T3_CORRECT = [
    Variant(
        "convnet_pool_before_relu_and_view",
        _forward(
            "x = F.max_pool2d(torch.relu(self.conv(s)), 8)\n        x = torch.relu(self.fc(x.flatten(1)))",
            "x = torch.relu(nn.MaxPool2d(8)(self.conv(s)))\n        x = F.relu(self.fc(x.view(x.shape[0], -1)))",
        ),
    ),
    Variant(
        "convnet_filters_as_new_parameters",
        _forward(
            load="self.conv.weight = nn.Parameter(filters.clone())\n"
            "                self.conv.bias = nn.Parameter(torch.zeros(c_out))"
        ),
    ),
    Variant(
        "accuracy_numpy_round",
        {
            "accuracy": _fn(
                "accuracy",
                "probabilities, labels",
                "import numpy\np = probabilities.detach().cpu().numpy()\n"
                "return float(numpy.mean(numpy.round(p) == labels.cpu().numpy()))",
            )
        },
    ),
    Variant("rdm_numpy_corrcoef", _rdm("import numpy\nreturn 1 - numpy.corrcoef(numpy.asarray(resp, dtype=float))")),
    Variant(
        "rdm_loops_sample_std",
        _rdm(
            "n, m = resp.shape\n"
            "z = (resp - resp.mean(1, keepdim=True)) / resp.std(1, keepdim=True)\n"
            "out = torch.zeros(n, n)\n"
            "for i in range(n):\n"
            "    for j in range(n):\n"
            "        out[i, j] = 1 - (z[i] * z[j]).sum() / (m - 1)\n"
            "return out"
        ),
    ),
    Variant(
        "correlate_both_triangles_numpy",
        _correlate(
            "import numpy\n"
            "a, b = numpy.asarray(rdm1, dtype=float), numpy.asarray(rdm2, dtype=float)\n"
            "off = ~numpy.eye(len(a), dtype=bool)\n"
            "return float(numpy.corrcoef(a[off], b[off])[0, 1])"
        ),
    ),
]

_ENCODING = """class EncodingModel(nn.Module):
    def __init__(self, n_neurons, c_out=6, K=7, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(1, c_out, kernel_size=K, padding=K // 2)
        if filters is not None:
            with torch.no_grad():
                {load}
        self.readout = nn.Linear(c_out * 6 * 8, n_neurons)

    def forward(self, s):
        {body}
"""
_ENCODING_FORWARD = "x = F.max_pool2d(torch.relu(self.conv(s)), 8)\n        return self.readout(x.flatten(1))"


def _encoding(old: str = "", new: str = "", load: str = _LOAD) -> dict[str, str]:
    assert old in _ENCODING_FORWARD, old
    return {
        "encoding_model": _ENCODING.format(
            load=load, body=_ENCODING_FORWARD.replace(old, new) if old else _ENCODING_FORWARD
        )
    }


ENCODING_FORWARD = frozenset({"test_encoding_forward"})
PENALTY = frozenset({"test_penalty"})
TUNING = frozenset({"test_tuning_correlation"})
KERNEL = frozenset({"test_kernel_change"})

T4_MISTAKES = [
    Variant(
        "encoding_relu_at_the_output",
        _encoding("return self.readout(x.flatten(1))", "return torch.relu(self.readout(x.flatten(1)))"),
        frozenset({"test_encoding_forward", "test_fitted_model"}),  # cannot predict negative z-scores
    ),
    Variant("encoding_without_conv_relu", _encoding("torch.relu(self.conv(s))", "self.conv(s)"), ENCODING_FORWARD),
    Variant("encoding_average_pooling", _encoding("F.max_pool2d(", "F.avg_pool2d("), ENCODING_FORWARD),
    Variant("encoding_ignores_filters", _encoding(load="pass"), frozenset({"test_encoding_filters"})),
    Variant(
        "penalty_averages",
        {"penalty": _fn("penalty", "weights, l1, l2", "return l1 * weights.abs().mean() + l2 * (weights**2).mean()")},
        PENALTY,
    ),
    Variant(
        "penalty_l2_norm_not_squared",
        {"penalty": _fn("penalty", "weights, l1, l2", "return l1 * weights.abs().sum() + l2 * weights.norm()")},
        PENALTY,
    ),
    Variant(
        "penalty_swaps_l1_and_l2",
        {"penalty": _fn("penalty", "weights, l1, l2", "return l2 * weights.abs().sum() + l1 * (weights**2).sum()")},
        PENALTY,
    ),
    Variant(
        "tuning_correlation_per_stimulus",
        {
            "tuning_correlation": _fn(
                "tuning_correlation",
                "pred, resp",
                "pred, resp = pred - pred.mean(1, keepdim=True), resp - resp.mean(1, keepdim=True)\n"
                "return (pred * resp).sum(1) / torch.sqrt((pred**2).sum(1) * (resp**2).sum(1))",
            )
        },
        TUNING,
    ),
    Variant(
        "tuning_correlation_without_centring",
        {
            "tuning_correlation": _fn(
                "tuning_correlation",
                "pred, resp",
                "return (pred * resp).sum(0) / torch.sqrt((pred**2).sum(0) * (resp**2).sum(0))",
            )
        },
        TUNING,
    ),
    Variant(
        "tuning_correlation_averaged",
        {
            "tuning_correlation": _fn(
                "tuning_correlation",
                "pred, resp",
                "pred, resp = pred - pred.mean(0), resp - resp.mean(0)\n"
                "return ((pred * resp).sum(0) / torch.sqrt((pred**2).sum(0) * (resp**2).sum(0))).mean()",
            )
        },
        TUNING,
    ),
    Variant(
        "kernel_change_not_relative",
        {"kernel_change": _fn("kernel_change", "initial, fitted", "return (fitted - initial).flatten(1).norm(dim=1)")},
        KERNEL,
    ),
    Variant(
        "kernel_change_all_channels_at_once",
        {
            "kernel_change": _fn(
                "kernel_change",
                "initial, fitted",
                "return ((fitted - initial).norm() / initial.norm()).repeat(len(initial))",
            )
        },
        KERNEL,
    ),
]

T4_CORRECT = [
    Variant(
        "encoding_pool_module_then_relu",
        _encoding(
            "x = F.max_pool2d(torch.relu(self.conv(s)), 8)\n        return self.readout(x.flatten(1))",
            "x = torch.relu(nn.MaxPool2d(8)(self.conv(s)))\n        return self.readout(x.reshape(len(x), -1))",
        ),
    ),
    Variant(
        "penalty_with_norms",
        {
            "penalty": _fn(
                "penalty", "weights, l1, l2", "return l1 * torch.norm(weights, p=1) + l2 * torch.norm(weights) ** 2"
            )
        },
    ),
    Variant(
        "tuning_correlation_numpy_loop",
        {
            "tuning_correlation": _fn(
                "tuning_correlation",
                "pred, resp",
                "import numpy\np, r = numpy.asarray(pred, dtype=float), numpy.asarray(resp, dtype=float)\n"
                "return numpy.array([numpy.corrcoef(p[:, i], r[:, i])[0, 1] for i in range(p.shape[1])])",
            )
        },
    ),
    Variant(
        "kernel_change_loop",
        {
            "kernel_change": _fn(
                "kernel_change",
                "initial, fitted",
                "return torch.stack([torch.linalg.norm(b - a) / torch.linalg.norm(a)\n"
                "                    for a, b in zip(initial, fitted)])",
            )
        },
    ),
]

# assignment -> its typical mistakes / other correct answers; erin in `make course` makes the first mistake
MISTAKES = {
    "t1_decoding": T1_MISTAKES,
    "t2_convolutions": T2_MISTAKES,
    "t3_normative": T3_MISTAKES,
    "t4_encoding": T4_MISTAKES,
}
CORRECT = {
    "t1_decoding": T1_CORRECT,
    "t2_convolutions": T2_CORRECT,
    "t3_normative": T3_CORRECT,
    "t4_encoding": T4_CORRECT,
}
