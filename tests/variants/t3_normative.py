"""Typical mistakes and other correct answers of t3_normative (see tests/variants/__init__.py)."""

from . import WHOLE, Variant

MISTAKES = [
    Variant(
        "convnet_without_sigmoid",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """                self.conv.bias.zero_()
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        x = torch.relu(self.fc(x.flatten(1)))
        return self.out(x)
""",
                ),
            ],
        },
        frozenset(["test_convnet_forward", "test_trained_network"]),
        hint="no sigmoid",
    ),
    Variant(
        "convnet_without_hidden_relu",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """                self.conv.bias.zero_()
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        x = (self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
        frozenset(["test_convnet_forward"]),
        hint="fc layer has no ReLU",
    ),
    Variant(
        "convnet_without_conv_relu",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """                self.conv.bias.zero_()
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.max_pool2d(self.conv(s), 8)
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
        frozenset(["test_convnet_forward"]),
        hint="convolution has no ReLU",
    ),
    Variant(
        "convnet_average_pooling",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """                self.conv.bias.zero_()
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.avg_pool2d(torch.relu(self.conv(s)), 8)
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
        frozenset(["test_convnet_forward"]),
        hint="pooling averages",
    ),
    Variant(
        "convnet_channels_last_flatten",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """                self.conv.bias.zero_()
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        x = torch.relu(self.fc(x.permute(0, 2, 3, 1).flatten(1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
        frozenset(["test_convnet_forward"]),
        hint="channels last",
    ),
    Variant(
        "convnet_ignores_filters",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """            with torch.no_grad():
                self.conv.weight.copy_(filters)
                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """            with torch.no_grad():
                pass
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
        frozenset(["test_convnet_filters"]),
        hint="Copy filters into self.conv.weight",
    ),
    Variant(
        "convnet_keeps_random_bias",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """                self.conv.weight.copy_(filters)
                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """                self.conv.weight.copy_(filters)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
        frozenset(["test_convnet_filters"]),
        hint="biases to zero",
    ),
    Variant(
        "convnet_without_padding",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(1, c_out, kernel_size=K, padding=K // 2)
        if filters is not None:''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(1, c_out, kernel_size=K, padding=0)
        if filters is not None:""",
                ),
                (
                    """                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """                self.conv.bias.zero_()
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
        frozenset(["test_convnet_forward", "test_convnet_structure", "test_trained_network"]),
        hint="padding K // 2",
    ),
    Variant(
        "accuracy_counts",
        {
            "accuracy": [
                (
                    WHOLE,
                    """def accuracy(probabilities, labels):
    return ((probabilities > 0.5).float() == labels).sum().item()
""",
                ),
            ],
        },
        frozenset(["test_accuracy"]),
        hint="number of right answers",
    ),
    Variant(
        "accuracy_compares_probabilities",
        {
            "accuracy": [
                (
                    WHOLE,
                    """def accuracy(probabilities, labels):
    return (probabilities == labels).float().mean().item()
""",
                ),
            ],
        },
        frozenset(["test_accuracy"]),
        hint="threshold them first",
    ),
    Variant(
        "rdm_zscores_columns",
        {
            "rdm": [
                (
                    WHOLE,
                    """def rdm(resp):
    resp = torch.as_tensor(resp, dtype=torch.float64)
    z = (resp - resp.mean(0, keepdim=True)) / resp.std(0, unbiased=False, keepdim=True)
    return 1 - z @ z.T / resp.shape[1]
""",
                ),
            ],
        },
        frozenset(["test_rdm_properties", "test_rdm_values"]),
        hint="z-scored each column",
    ),
    Variant(
        "rdm_is_correlation",
        {
            "rdm": [
                (
                    WHOLE,
                    """def rdm(resp):
    resp = torch.as_tensor(resp, dtype=torch.float64)
    z = (resp - resp.mean(1, keepdim=True)) / resp.std(1, unbiased=False, keepdim=True)
    return z @ z.T / resp.shape[1]
""",
                ),
            ],
        },
        frozenset(["test_rdm_properties", "test_rdm_values"]),
        hint="1 minus the correlation",
    ),
    Variant(
        "rdm_without_zscore",
        {
            "rdm": [
                (
                    WHOLE,
                    """def rdm(resp):
    resp = torch.as_tensor(resp, dtype=torch.float64)
    return 1 - resp @ resp.T / resp.shape[1]
""",
                ),
            ],
        },
        frozenset(["test_rdm_properties", "test_rdm_values"]),
        hint="z-score each row",
    ),
    Variant(
        "rdm_unbiased_std_divided_by_m",
        {
            "rdm": [
                (
                    WHOLE,
                    """def rdm(resp):
    resp = torch.as_tensor(resp, dtype=torch.float64)
    z = (resp - resp.mean(1, keepdim=True)) / resp.std(1, keepdim=True)
    return 1 - z @ z.T / resp.shape[1]
""",
                ),
            ],
        },
        frozenset(["test_rdm_properties", "test_rdm_values"]),
        hint="unbiased=False",
    ),
    Variant(
        "rdm_absolute_correlation",
        {
            "rdm": [
                (
                    WHOLE,
                    """def rdm(resp):
    resp = torch.as_tensor(resp, dtype=torch.float64)
    z = (resp - resp.mean(1, keepdim=True)) / resp.std(1, unbiased=False, keepdim=True)
    return 1 - (z @ z.T / resp.shape[1]).abs()
""",
                ),
            ],
        },
        frozenset(["test_rdm_values"]),
        hint="1 - |r|",
    ),
    Variant(
        "correlate_with_diagonal",
        {
            "correlate_rdms": [
                (
                    WHOLE,
                    """def correlate_rdms(rdm1, rdm2):
    a, b = torch.as_tensor(rdm1).flatten().double(), torch.as_tensor(rdm2).flatten().double()
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])
""",
                ),
            ],
        },
        frozenset(["test_correlate_rdms"]),
        hint="entries above the diagonal",
    ),
    Variant(
        "correlate_spearman",
        {
            "correlate_rdms": [
                (
                    WHOLE,
                    """def correlate_rdms(rdm1, rdm2):
    rows, cols = torch.triu_indices(len(rdm1), len(rdm1), offset=1)
    a = torch.as_tensor(rdm1)[rows, cols].argsort().argsort().double()
    b = torch.as_tensor(rdm2)[rows, cols].argsort().argsort().double()
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])
""",
                ),
            ],
        },
        frozenset(["test_correlate_rdms"]),
        hint="Spearman's rank correlation",
    ),
    Variant(
        "correlate_covariance",
        {
            "correlate_rdms": [
                (
                    WHOLE,
                    """def correlate_rdms(rdm1, rdm2):
    rows, cols = torch.triu_indices(len(rdm1), len(rdm1), offset=1)
    a, b = torch.as_tensor(rdm1)[rows, cols].double(), torch.as_tensor(rdm2)[rows, cols].double()
    return float(((a - a.mean()) * (b - b.mean())).mean())
""",
                ),
            ],
        },
        frozenset(["test_correlate_rdms"]),
        hint="covariance of the entries",
    ),
]

CORRECT = [
    Variant(
        "convnet_padding_same",
        {"convnet": [("padding=K // 2)", 'padding="same")')]},
        why="padding='same' keeps the 48 x 64 size, as K // 2 does for an odd K",
    ),
    Variant(
        "convnet_pool_before_relu_and_view",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """                self.conv.bias.zero_()
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = torch.relu(nn.MaxPool2d(8)(self.conv(s)))
        x = F.relu(self.fc(x.view(x.shape[0], -1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
    ),
    Variant(
        "convnet_filters_as_new_parameters",
        {
            "convnet": [
                (
                    '''class ConvNet(nn.Module):
    """Convolution, ReLU, 8 x 8 max pooling, a fully connected ReLU layer and a sigmoid output unit."""

    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):''',
                    """class ConvNet(nn.Module):
    def __init__(self, c_out=6, K=7, n_hidden=20, filters=None):""",
                ),
                (
                    """            with torch.no_grad():
                self.conv.weight.copy_(filters)
                self.conv.bias.zero_()
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                    """            with torch.no_grad():
                self.conv.weight = nn.Parameter(filters.clone())
                self.conv.bias = nn.Parameter(torch.zeros(c_out))
        self.fc = nn.Linear(c_out * 6 * 8, n_hidden)""",
                ),
                (
                    '''    def forward(self, s):
        """Stimuli (N, 1, 48, 64) to probabilities (N, 1)."""
        x = self.pool(torch.relu(self.conv(s)))
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))''',
                    """    def forward(self, s):
        x = F.max_pool2d(torch.relu(self.conv(s)), 8)
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.sigmoid(self.out(x))
""",
                ),
            ],
        },
    ),
    Variant(
        "accuracy_numpy_round",
        {
            "accuracy": [
                (
                    WHOLE,
                    """def accuracy(probabilities, labels):
    import numpy
    p = probabilities.detach().cpu().numpy()
    return float(numpy.mean(numpy.round(p) == labels.cpu().numpy()))
""",
                ),
            ],
        },
    ),
    Variant(
        "rdm_numpy_corrcoef",
        {
            "rdm": [
                (
                    WHOLE,
                    """def rdm(resp):
    import numpy
    return 1 - numpy.corrcoef(numpy.asarray(resp, dtype=float))
""",
                ),
            ],
        },
    ),
    Variant(
        "rdm_loops_sample_std",
        {
            "rdm": [
                (
                    WHOLE,
                    """def rdm(resp):
    n, m = resp.shape
    z = (resp - resp.mean(1, keepdim=True)) / resp.std(1, keepdim=True)
    out = torch.zeros(n, n)
    for i in range(n):
        for j in range(n):
            out[i, j] = 1 - (z[i] * z[j]).sum() / (m - 1)
    return out
""",
                ),
            ],
        },
    ),
    Variant(
        "correlate_both_triangles_numpy",
        {
            "correlate_rdms": [
                (
                    WHOLE,
                    """def correlate_rdms(rdm1, rdm2):
    import numpy
    a, b = numpy.asarray(rdm1, dtype=float), numpy.asarray(rdm2, dtype=float)
    off = ~numpy.eye(len(a), dtype=bool)
    return float(numpy.corrcoef(a[off], b[off])[0, 1])
""",
                ),
            ],
        },
    ),
]
