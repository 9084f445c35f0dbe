"""Typical mistakes and other correct answers of t2_convolutions (see tests/variants/__init__.py)."""

from . import WHOLE, Variant

MISTAKES = [
    Variant(
        "convout_tracks_gradients",
        {
            "grating_responses": [
                (
                    "with torch.no_grad():\n    convout = layer(stimuli.to(device)).cpu()",
                    "convout = layer(stimuli.to(device)).cpu()",
                )
            ]
        },
        frozenset(["test_convout"]),
        hint="torch.no_grad()",
    ),
    Variant(
        "true_convolution",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """def conv2d_by_hand(image, kernel, padding=0, stride=1):
    kh, kw = kernel.shape
    padded = torch.zeros(image.shape[0] + 2 * padding, image.shape[1] + 2 * padding)
    padded[padding : padding + image.shape[0], padding : padding + image.shape[1]] = image
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = torch.zeros(h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = (padded[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel.flip(0, 1)).sum()
    return out
""",
                ),
            ],
        },
        # the padding, stride and no-library tests use kernels symmetric under a 180-degree rotation: one
        # flipped kernel costs only the test that checks for it
        frozenset(["test_conv2d_by_hand_cross_correlation"]),
        "flips the kernel: the mathematical convolution, not PyTorch's cross-correlation",
        hint="true convolution",
    ),
    Variant(
        "ignores_padding",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """def conv2d_by_hand(image, kernel, padding=0, stride=1):
    padding = 0
    kh, kw = kernel.shape
    padded = torch.zeros(image.shape[0] + 2 * padding, image.shape[1] + 2 * padding)
    padded[padding : padding + image.shape[0], padding : padding + image.shape[1]] = image
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = torch.zeros(h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = (padded[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel).sum()
    return out
""",
                ),
            ],
        },
        frozenset(["test_conv2d_by_hand_padding", "test_conv2d_by_hand_padding_and_stride"]),
        hint="pad the image",
    ),
    Variant(
        "ignores_stride",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """def conv2d_by_hand(image, kernel, padding=0, stride=1):
    stride = 1
    kh, kw = kernel.shape
    padded = torch.zeros(image.shape[0] + 2 * padding, image.shape[1] + 2 * padding)
    padded[padding : padding + image.shape[0], padding : padding + image.shape[1]] = image
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = torch.zeros(h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = (padded[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel).sum()
    return out
""",
                ),
            ],
        },
        frozenset(["test_conv2d_by_hand_padding_and_stride", "test_conv2d_by_hand_stride"]),
        hint="With stride s",
    ),
    Variant(
        "off_by_one_output_in_conv2d_by_hand",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """def conv2d_by_hand(image, kernel, padding=0, stride=1):
    kh, kw = kernel.shape
    padded = torch.zeros(image.shape[0] + 2 * padding, image.shape[1] + 2 * padding)
    padded[padding : padding + image.shape[0], padding : padding + image.shape[1]] = image
    h_out = (padded.shape[0] - kh) // stride
    w_out = (padded.shape[1] - kw) // stride
    out = torch.zeros(h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = (padded[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel).sum()
    return out
""",
                ),
            ],
        },
        frozenset(
            [
                "test_conv2d_by_hand_cross_correlation",
                "test_conv2d_by_hand_no_library",
                "test_conv2d_by_hand_padding",
                "test_conv2d_by_hand_padding_and_stride",
                "test_conv2d_by_hand_stride",
            ]
        ),
        hint="(H - Kh + 1)",
    ),
    Variant(
        "calls_conv2d",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """def conv2d_by_hand(image, kernel, padding=0, stride=1):
    return F.conv2d(image[None, None], kernel[None, None], padding=padding, stride=stride)[0, 0]
""",
                ),
            ],
        },
        frozenset(["test_conv2d_by_hand_no_library"]),
        hint="uses .conv2d",
    ),
    Variant(
        "calls_imported_conv2d",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """from torch.nn.functional import conv2d as c2d


def conv2d_by_hand(image, kernel, padding=0, stride=1):
    return c2d(image[None, None], kernel[None, None], padding=padding, stride=stride)[0, 0]
""",
                ),
            ],
        },
        frozenset(["test_conv2d_by_hand_no_library"]),
        hint="uses import conv2d",
    ),
    Variant(
        "off_by_one_output_shape",
        {
            "conv_output_shape": [
                (
                    WHOLE,
                    """def conv_output_shape(h, w, K, padding=0, stride=1):
    return (h + 2 * padding - K) // stride, (w + 2 * padding - K) // stride
""",
                ),
            ],
        },
        frozenset(["test_conv_output_shape_stride", "test_conv_output_shape_stride_1"]),
        hint="h - K + 1",
    ),
    Variant(
        "output_shape_true_division",
        {
            "conv_output_shape": [
                (
                    WHOLE,
                    """def conv_output_shape(h, w, K, padding=0, stride=1):
    return (h + 2 * padding - K) / stride + 1, (w + 2 * padding - K) / stride + 1
""",
                ),
            ],
        },
        frozenset(["test_conv_output_shape_stride"]),
        "true division gives floats such as 21.5 when the stride does not divide evenly",
        hint="use // to divide",
    ),
    Variant(
        "layer_pads_K",
        {
            "convolutional_layer": [
                (
                    '''class ConvolutionalLayer(nn.Module):
    """One convolutional layer with 'same' padding and, optionally, fixed kernels."""

    def __init__(self, c_in=1, c_out=6, K=7, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=K, stride=1, padding=K // 2)
        if filters is not None:
            with torch.no_grad():
                self.conv.weight.copy_(torch.as_tensor(filters, dtype=self.conv.weight.dtype))
                self.conv.bias.zero_()''',
                    """class ConvolutionalLayer(nn.Module):
    def __init__(self, c_in=1, c_out=6, K=7, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=K, stride=1, padding=K)
        if filters is not None:
            with torch.no_grad():
                self.conv.weight.copy_(filters)
                self.conv.bias.zero_()""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, c_in, H, W) to activations (N, c_out, H, W)."""
        return self.conv(s)''',
                    """    def forward(self, s):
        return self.conv(s)
""",
                ),
            ],
        },
        frozenset(["test_convout", "test_layer_forward", "test_layer_structure"]),
        hint="pad by K // 2",
    ),
    Variant(
        "layer_keeps_random_bias",
        {
            "convolutional_layer": [
                (
                    '''class ConvolutionalLayer(nn.Module):
    """One convolutional layer with 'same' padding and, optionally, fixed kernels."""

    def __init__(self, c_in=1, c_out=6, K=7, filters=None):''',
                    """class ConvolutionalLayer(nn.Module):
    def __init__(self, c_in=1, c_out=6, K=7, filters=None):""",
                ),
                (
                    '''            with torch.no_grad():
                self.conv.weight.copy_(torch.as_tensor(filters, dtype=self.conv.weight.dtype))
                self.conv.bias.zero_()

    def forward(self, s):
        """Stimuli (N, c_in, H, W) to activations (N, c_out, H, W)."""
        return self.conv(s)''',
                    """            with torch.no_grad():
                self.conv.weight.copy_(filters)
                pass

    def forward(self, s):
        return self.conv(s)
""",
                ),
            ],
        },
        frozenset(["test_convout", "test_layer_filters", "test_layer_forward"]),
        hint="bias must be zero",
    ),
    Variant(
        "stimuli_in_wrong_order",
        {
            "grating_responses": [
                (
                    WHOLE,
                    """stimuli = gratings([90, 45, 0, -45, -90])
layer = ConvolutionalLayer(filters=filter_bank(6, 7))
with torch.no_grad():
    convout = layer(stimuli)
""",
                ),
            ],
        },
        frozenset(["test_convout", "test_stimuli"]),
        hint="from 90 to -90",
    ),
    Variant(
        "dense_counts_only_outputs",
        {
            "parameter_counts": [
                (
                    '''def n_conv_parameters(c_in, c_out, K):
    """Weights plus biases of nn.Conv2d(c_in, c_out, K)."""
    return c_out * c_in * K * K + c_out''',
                    """def n_conv_parameters(c_in, c_out, K):
    return c_out * c_in * K * K + c_out""",
                ),
                (
                    '''def n_dense_parameters(h, w, c_in, c_out):
    """Weights plus biases of a fully connected layer from (c_in, h, w) to (c_out, h, w)."""
    n_in, n_out = c_in * h * w, c_out * h * w
    return n_in * n_out + n_out''',
                    """def n_dense_parameters(h, w, c_in, c_out):
    return (h * w) * c_out + c_out
""",
                ),
            ],
        },
        frozenset(["test_n_dense_parameters"]),
        "counts (H*W)*C_out + C_out",
        hint="every input value to every output value",
    ),
    Variant(
        "conv_count_without_bias",
        {
            "parameter_counts": [
                (
                    '''def n_conv_parameters(c_in, c_out, K):
    """Weights plus biases of nn.Conv2d(c_in, c_out, K)."""
    return c_out * c_in * K * K + c_out
''',
                    """def n_conv_parameters(c_in, c_out, K):
    return c_out * c_in * K * K
""",
                ),
                (
                    '''def n_dense_parameters(h, w, c_in, c_out):
    """Weights plus biases of a fully connected layer from (c_in, h, w) to (c_out, h, w)."""
    n_in, n_out = c_in * h * w, c_out * h * w
    return n_in * n_out + n_out''',
                    """def n_dense_parameters(h, w, c_in, c_out):
    return (c_in * h * w) * (c_out * h * w) + c_out * h * w
""",
                ),
            ],
        },
        frozenset(["test_n_conv_parameters"]),
        hint="weights only",
    ),
    Variant(
        "weights_typed_in",
        {"layer_weights": [(WHOLE, "weights = filter_bank(6, 7)\n")]},
        frozenset(["test_weights"]),
        "the right numbers, but not the layer's kernels: typed in again",
        hint="read from your layer",
    ),
    Variant(
        "weights_typed_in_under_another_name",
        {"layer_weights": [(WHOLE, "bank = filter_bank(6, 7)\nagain = bank\nweights = again.clone()\n")]},
        frozenset(["test_weights"]),
        "typed in again, through two other names",
        hint="read from your layer",
    ),
    Variant(
        "weights_not_detached",
        {
            "layer_weights": [
                (
                    WHOLE,
                    """weights = layer.conv.weight
""",
                ),
            ],
        },
        frozenset(["test_weights"]),
        hint="detached",
    ),
    Variant(
        "energy_not_squared",
        {
            "complex_cell_energy": [
                (
                    WHOLE,
                    """def complex_cell_energy(stimuli, even, odd):
    K = even.shape[-1]
    return (F.conv2d(stimuli, even[None, None], padding=K // 2).abs()
            + F.conv2d(stimuli, odd[None, None], padding=K // 2).abs())
""",
                ),
            ],
        },
        frozenset(["test_complex_cell_energy"]),
        hint="Square each response",
    ),
]

CORRECT = [
    Variant(
        "conv2d_checked_in_its_own_cell",
        {
            "conv2d_by_hand": [
                (
                    "            out[i, j] = (window * kernel).sum()\n    return out",
                    """            out[i, j] = (window * kernel).sum()
    return out


_x, _k = torch.randn(6, 7), torch.randn(3, 2)
print(conv2d_by_hand(_x, _k, padding=1, stride=2))
assert torch.allclose(
    conv2d_by_hand(_x, _k, padding=1), F.conv2d(_x[None, None], _k[None, None], padding=1)[0, 0], atol=1e-5
)""",
                )
            ]
        },
        why="a self-check after the function, against F.conv2d, is not the function: only what defines it is read",
    ),
    Variant(
        "weights_from_state_dict",
        {
            "grating_responses": [
                ("layer = ConvolutionalLayer(", "conv_layer = ConvolutionalLayer("),
                ("convout = layer(", "convout = conv_layer("),
            ],
            "layer_weights": [(WHOLE, 'weights = conv_layer.state_dict()["conv.weight"].cpu()\n')],
        },
        why="another name for the layer; state_dict() holds detached tensors of the layer's parameters",
    ),
    Variant(
        "weights_through_an_alias_of_the_parameter",
        {"layer_weights": [(WHOLE, "of_layer = layer.conv.weight\nweights = of_layer.detach().clone().cpu()\n")]},
        why="read from the layer through a name of its own",
    ),
    Variant(
        "unfold_windows",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """def conv2d_by_hand(image, kernel, padding=0, stride=1):
    kh, kw = kernel.shape
    padded = torch.nn.functional.pad(image, (padding, padding, padding, padding))
    windows = padded.unfold(0, kh, stride).unfold(1, kw, stride)
    return (windows * kernel).sum(dim=(-2, -1))
""",
                ),
            ],
        },
    ),
    Variant(
        "numpy_loops_returning_tensor",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """import numpy as np


def conv2d_by_hand(image, kernel, padding=0, stride=1):
    img = np.pad(image.numpy(), padding)
    k = kernel.numpy()
    kh, kw = k.shape
    rows = range(0, img.shape[0] - kh + 1, stride)
    cols = range(0, img.shape[1] - kw + 1, stride)
    return torch.tensor([[float((img[r:r + kh, c:c + kw] * k).sum()) for c in cols] for r in rows])
""",
                ),
            ],
        },
    ),
    Variant(
        "warns_and_writes_to_stderr",
        {
            "conv2d_by_hand": [
                (
                    WHOLE,
                    """import sys
import warnings


def conv2d_by_hand(image, kernel, padding=0, stride=1):
    warnings.warn("slow loops ahead")
    print("debug", file=sys.stderr)
    kh, kw = kernel.shape
    padded = torch.zeros(image.shape[0] + 2 * padding, image.shape[1] + 2 * padding)
    padded[padding : padding + image.shape[0], padding : padding + image.shape[1]] = image
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = torch.zeros(h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = (padded[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel).sum()
    return out
""",
                ),
            ],
            "convolutional_layer": [
                (
                    '''class ConvolutionalLayer(nn.Module):
    """One convolutional layer with 'same' padding and, optionally, fixed kernels."""

    def __init__(self, c_in=1, c_out=6, K=7, filters=None):''',
                    """class ConvolutionalLayer(nn.Module):
    def __init__(self, c_in=1, c_out=6, K=7, filters=None):""",
                ),
                (
                    """            with torch.no_grad():
                self.conv.weight.copy_(torch.as_tensor(filters, dtype=self.conv.weight.dtype))
                self.conv.bias.zero_()""",
                    """            with torch.no_grad():
                self.conv.weight.copy_(torch.tensor(filters))
                self.conv.bias.zero_()""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, c_in, H, W) to activations (N, c_out, H, W)."""
        return self.conv(s)''',
                    """    def forward(self, s):
        return self.conv(s)
""",
                ),
            ],
        },
        frozenset(),
        "torch.tensor(tensor) emits a UserWarning; warnings must not cost points",
    ),
    Variant(
        "layer_with_parameter_and_no_bias",
        {
            "convolutional_layer": [
                (
                    WHOLE,
                    """class ConvolutionalLayer(nn.Module):
    def __init__(self, c_in=1, c_out=6, K=7, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, K, padding='same', bias=filters is None)
        if filters is not None:
            self.conv.weight = nn.Parameter(filters.clone())

    def forward(self, s):
        return self.conv(s)
""",
                ),
            ],
        },
    ),
    Variant(
        "shape_as_list_of_numpy_ints",
        {
            "conv_output_shape": [
                (
                    WHOLE,
                    """import numpy as np


def conv_output_shape(h, w, K, padding=0, stride=1):
    size = (np.array([h, w]) + 2 * padding - K) // stride + 1
    return [size[0], size[1]]
""",
                ),
            ],
        },
    ),
]
