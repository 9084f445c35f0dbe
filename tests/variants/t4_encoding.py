"""Typical mistakes and other correct answers of t4_encoding (see tests/variants/__init__.py)."""

from . import WHOLE, Variant

MISTAKES = [
    Variant(
        "forward_looks_up_the_held_out_responses",
        {
            "encoding_model": [
                (
                    "        return self.readout(x.flatten(1))",
                    """        out = self.readout(x.flatten(1))
        known = stimuli.flatten(0, 1).flatten(1).to(s)
        nearest = torch.cdist(s.flatten(1), known).argmin(1) // stimuli.shape[1]
        return resp_test[nearest][:, : out.shape[1]].to(out) + 0 * out""",
                )
            ]
        },
        frozenset(["test_encoding_forward", "test_fitted_model"]),
        "an attack: the responses of the other half of the trials, looked up, instead of a fitted model",
        hint="conv, ReLU, 8 x 8 max pooling, flatten(1), readout",
    ),
    Variant(
        "encoding_relu_at_the_output",
        {
            "encoding_model": [
                (
                    '''class EncodingModel(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling and a linear read-out per neuron."""

    def __init__(self, n_neurons, c_out=6, K=7, filters=None):''',
                    """class EncodingModel(nn.Module):
    def __init__(self, n_neurons, c_out=6, K=7, filters=None):""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to predicted responses (N, n_neurons)."""
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        return self.readout(x.flatten(1))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        return torch.relu(self.readout(x.flatten(1)))
""",
                ),
            ],
        },
        frozenset(["test_encoding_forward", "test_fitted_model"]),
        hint="ReLU after the read-out",
    ),
    Variant(
        "encoding_without_conv_relu",
        {
            "encoding_model": [
                (
                    '''class EncodingModel(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling and a linear read-out per neuron."""

    def __init__(self, n_neurons, c_out=6, K=7, filters=None):''',
                    """class EncodingModel(nn.Module):
    def __init__(self, n_neurons, c_out=6, K=7, filters=None):""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to predicted responses (N, n_neurons)."""
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        return self.readout(x.flatten(1))''',
                    """    def forward(self, s):
        x = F.max_pool2d(self.conv(s), 8)
        return self.readout(x.flatten(1))
""",
                ),
            ],
        },
        frozenset(["test_encoding_forward"]),
        hint="convolution has no ReLU",
    ),
    Variant(
        "encoding_average_pooling",
        {
            "encoding_model": [
                (
                    '''class EncodingModel(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling and a linear read-out per neuron."""

    def __init__(self, n_neurons, c_out=6, K=7, filters=None):''',
                    """class EncodingModel(nn.Module):
    def __init__(self, n_neurons, c_out=6, K=7, filters=None):""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to predicted responses (N, n_neurons)."""
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        return self.readout(x.flatten(1))''',
                    """    def forward(self, s):
        x = F.avg_pool2d(torch.relu(self.conv(s)), 8)
        return self.readout(x.flatten(1))
""",
                ),
            ],
        },
        frozenset(["test_encoding_forward"]),
        hint="pooling averages",
    ),
    Variant(
        "encoding_ignores_filters",
        {
            "encoding_model": [
                (
                    '''class EncodingModel(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling and a linear read-out per neuron."""

    def __init__(self, n_neurons, c_out=6, K=7, filters=None):''',
                    """class EncodingModel(nn.Module):
    def __init__(self, n_neurons, c_out=6, K=7, filters=None):""",
                ),
                (
                    """            with torch.no_grad():
                self.conv.weight.copy_(filters)
                self.conv.bias.zero_()
        self.readout = nn.Linear(c_out * 6 * 8, n_neurons)""",
                    """            with torch.no_grad():
                pass
        self.readout = nn.Linear(c_out * 6 * 8, n_neurons)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to predicted responses (N, n_neurons)."""
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        return self.readout(x.flatten(1))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        return self.readout(x.flatten(1))
""",
                ),
            ],
        },
        frozenset(["test_encoding_filters"]),
        hint="Copy filters into self.conv.weight",
    ),
    Variant(
        "penalty_averages",
        {
            "penalty": [
                (
                    WHOLE,
                    """def penalty(weights, l1, l2):
    return l1 * weights.abs().mean() + l2 * (weights**2).mean()
""",
                ),
            ],
        },
        frozenset(["test_penalty"]),
        hint="averages |w|",
    ),
    Variant(
        "penalty_l2_norm_not_squared",
        {
            "penalty": [
                (
                    WHOLE,
                    """def penalty(weights, l1, l2):
    return l1 * weights.abs().sum() + l2 * weights.norm()
""",
                ),
            ],
        },
        frozenset(["test_penalty"]),
        hint="L2 norm itself",
    ),
    Variant(
        "penalty_swaps_l1_and_l2",
        {
            "penalty": [
                (
                    WHOLE,
                    """def penalty(weights, l1, l2):
    return l2 * weights.abs().sum() + l1 * (weights**2).sum()
""",
                ),
            ],
        },
        frozenset(["test_penalty"]),
        hint="swaps the two",
    ),
    Variant(
        "tuning_correlation_per_stimulus",
        {
            "tuning_correlation": [
                (
                    WHOLE,
                    """def tuning_correlation(pred, resp):
    pred, resp = pred - pred.mean(1, keepdim=True), resp - resp.mean(1, keepdim=True)
    return (pred * resp).sum(1) / torch.sqrt((pred**2).sum(1) * (resp**2).sum(1))
""",
                ),
            ],
        },
        frozenset(["test_tuning_correlation"]),
        hint="One correlation per neuron",
    ),
    Variant(
        "tuning_correlation_without_centring",
        {
            "tuning_correlation": [
                (
                    WHOLE,
                    """def tuning_correlation(pred, resp):
    return (pred * resp).sum(0) / torch.sqrt((pred**2).sum(0) * (resp**2).sum(0))
""",
                ),
            ],
        },
        frozenset(["test_tuning_correlation"]),
        hint="subtract the column means",
    ),
    Variant(
        "tuning_correlation_averaged",
        {
            "tuning_correlation": [
                (
                    WHOLE,
                    """def tuning_correlation(pred, resp):
    pred, resp = pred - pred.mean(0), resp - resp.mean(0)
    return ((pred * resp).sum(0) / torch.sqrt((pred**2).sum(0) * (resp**2).sum(0))).mean()
""",
                ),
            ],
        },
        frozenset(["test_tuning_correlation"]),
        hint="One correlation per neuron",
    ),
    Variant(
        "kernel_change_not_relative",
        {
            "kernel_change": [
                (
                    WHOLE,
                    """def kernel_change(initial, fitted):
    return (fitted - initial).flatten(1).norm(dim=1)
""",
                ),
            ],
        },
        frozenset(["test_kernel_change"]),
        hint="norms of the changes",
    ),
    Variant(
        "kernel_change_all_channels_at_once",
        {
            "kernel_change": [
                (
                    WHOLE,
                    """def kernel_change(initial, fitted):
    return ((fitted - initial).norm() / initial.norm()).repeat(len(initial))
""",
                ),
            ],
        },
        frozenset(["test_kernel_change"]),
        hint="per output channel",
    ),
]

CORRECT = [
    Variant(
        "encoding_padding_same",
        {"encoding_model": [("padding=K // 2)", 'padding="same")')]},
        why="padding='same' keeps the 48 x 64 size, as K // 2 does for an odd K",
    ),
    Variant(
        "encoding_pool_module_then_relu",
        {
            "encoding_model": [
                (
                    '''class EncodingModel(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling and a linear read-out per neuron."""

    def __init__(self, n_neurons, c_out=6, K=7, filters=None):''',
                    """class EncodingModel(nn.Module):
    def __init__(self, n_neurons, c_out=6, K=7, filters=None):""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to predicted responses (N, n_neurons)."""
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        return self.readout(x.flatten(1))''',
                    """    def forward(self, s):
        x = torch.relu(nn.MaxPool2d(8)(self.conv(s)))
        return self.readout(x.reshape(len(x), -1))
""",
                ),
            ],
        },
    ),
    Variant(
        "penalty_with_norms",
        {
            "penalty": [
                (
                    WHOLE,
                    """def penalty(weights, l1, l2):
    return l1 * torch.norm(weights, p=1) + l2 * torch.norm(weights) ** 2
""",
                ),
            ],
        },
    ),
    Variant(
        "tuning_correlation_numpy_loop",
        {
            "tuning_correlation": [
                (
                    WHOLE,
                    """def tuning_correlation(pred, resp):
    import numpy
    p, r = numpy.asarray(pred, dtype=float), numpy.asarray(resp, dtype=float)
    return numpy.array([numpy.corrcoef(p[:, i], r[:, i])[0, 1] for i in range(p.shape[1])])
""",
                ),
            ],
        },
    ),
    Variant(
        "kernel_change_loop",
        {
            "kernel_change": [
                (
                    WHOLE,
                    """def kernel_change(initial, fitted):
    return torch.stack([torch.linalg.norm(b - a) / torch.linalg.norm(a)
                        for a, b in zip(initial, fitted)])
""",
                ),
            ],
        },
    ),
]
