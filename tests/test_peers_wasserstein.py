"""The generalized Wasserstein Dice loss against MONAI's ``GeneralizedWassersteinDiceLoss``, run
here: values and gradients in both weighting modes, MONAI's published test cases, every backend
(eager and compiled), the edge cases and the errors of a bad ``dist_matrix``.

Tolerances: in ``"default"`` mode MONAI computes in float64 throughout and agrees to rounding
(``F64``). In ``"GDL"`` mode it computes the class weights ``1 / (V + 1)`` in float32 (its
``.float()`` one-hot), so the comparison takes their rounding (``GDL``, inside 1e-6). MONAI's
published values are "close to 0 / 1" at 3 places (``PUBLISHED``).
"""

from __future__ import annotations

import json

import monai.losses as monai
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import xploss
import xploss.torch as xt

F64 = {"rtol": 1e-9, "atol": 1e-12}
GDL = {"rtol": 1e-6, "atol": 1e-8}
F32 = {"rtol": 1e-5, "atol": 1e-6}
PUBLISHED = {"abs": 5e-4}
MODES = ("default", "GDL")
TOL = {"default": F64, "GDL": GDL}
gwdl = xploss.generalized_wasserstein_dice_loss


def randn(*shape: int, seed: int, scale: float = 2.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, dtype=torch.float64, generator=generator)


def labels(shape: tuple[int, ...], classes: int, seed: int) -> torch.Tensor:
    return torch.randint(0, classes, shape, generator=torch.Generator().manual_seed(seed))


def distances(classes: int, seed: int) -> torch.Tensor:
    """A random non-symmetric distance matrix with a zero diagonal, largest entry not 1."""
    generator = torch.Generator().manual_seed(seed)
    matrix = 0.1 + 2.9 * torch.rand(classes, classes, dtype=torch.float64, generator=generator)
    return matrix * (1 - torch.eye(classes, dtype=torch.float64))


def theirs(matrix: object, mode: str, **options: object) -> monai.GeneralizedWassersteinDiceLoss:
    return monai.GeneralizedWassersteinDiceLoss(dist_matrix=matrix, weighting_mode=mode, **options)


def assert_agree(mine, reference, logits: torch.Tensor, tol: dict) -> None:
    """``mine(z) == reference(z)`` in value and gradient with respect to the logits."""
    a = logits.detach().clone().requires_grad_(True)
    b = logits.detach().clone().requires_grad_(True)
    value, expected = mine(a), reference(b)
    torch.testing.assert_close(value, expected, **tol)
    (grad,) = torch.autograd.grad(value.sum(), a)
    (expected_grad,) = torch.autograd.grad(expected.sum(), b)
    torch.testing.assert_close(grad, expected_grad, **tol)


# ---- random cases: the module, the functional API and NumPy ---------------------------------
SHAPES = {"1d": (3, 4, 7), "2d": (2, 3, 5, 6), "3d": (2, 4, 3, 4, 5)}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", MODES)
def test_random_cases_are_monais(mode, shape, reduction):
    dims = SHAPES[shape]
    classes = dims[1]
    logits, target = randn(*dims, seed=1), labels((dims[0], *dims[2:]), classes, seed=2)
    matrix = distances(classes, seed=3)
    reference = theirs(matrix, mode, reduction=reduction)
    options = {"weighting_mode": mode, "reduction": reduction}
    module = xt.GeneralizedWassersteinDiceLoss(dist_matrix=matrix, from_logits=True, **options)
    onehot = F.one_hot(target, classes).movedim(-1, 1).to(torch.float64)
    tol = TOL[mode]
    assert_agree(lambda z: module(z, target), lambda z: reference(z, target), logits, tol)
    assert_agree(lambda z: module(z, onehot), lambda z: reference(z, target), logits, tol)
    spatial = tuple(range(2, len(dims)))
    function = lambda z: gwdl(  # noqa: E731
        target, z, dist_matrix=matrix, class_axis=1, axis=spatial, from_logits="softmax", **options
    )
    assert_agree(function, lambda z: reference(z, target), logits, tol)
    last = np.moveaxis(logits.numpy(), 1, -1)  # channels-last NumPy, the matrix as nested lists
    value = gwdl(
        target.numpy(), last, dist_matrix=matrix.tolist(), axis=tuple(range(1, len(dims) - 1)),
        from_logits="softmax", **options,
    )  # fmt: skip
    np.testing.assert_allclose(value, reference(logits, target).numpy(), **tol)
    if reduction == "none":
        assert module(logits, target).shape == (dims[0],)


def test_gdl_is_monais_to_rounding_once_its_weights_are_float64(monkeypatch):
    """MONAI's only difference in ``"GDL"`` mode: its weights ``1 / (V + 1)`` are float32."""

    def float64_alpha(self, flat_target):
        volumes = F.one_hot(flat_target, num_classes=self.num_classes).sum(1).double()
        return 1.0 / (volumes + 1.0)

    cls = monai.GeneralizedWassersteinDiceLoss
    monkeypatch.setattr(cls, "_compute_alpha_generalized_true_positives", float64_alpha)
    logits, target = randn(2, 4, 5, 6, seed=37), labels((2, 5, 6), 4, seed=38)
    matrix = distances(4, seed=39)
    module = xt.GeneralizedWassersteinDiceLoss(
        dist_matrix=matrix, weighting_mode="GDL", from_logits=True
    )
    reference = theirs(matrix, "GDL")
    assert_agree(lambda z: module(z, target), lambda z: reference(z, target), logits, F64)


@pytest.mark.parametrize("mode", MODES)
def test_batch_pools_every_image_as_monai_on_one_image_of_the_batch(mode):
    logits, target = randn(3, 4, 5, 6, seed=4), labels((3, 5, 6), 4, seed=5)
    matrix = distances(4, seed=6)
    module = xt.GeneralizedWassersteinDiceLoss(
        dist_matrix=matrix, weighting_mode=mode, from_logits=True, batch=True
    )
    reference = theirs(matrix, mode)
    assert_agree(
        lambda z: module(z, target),
        lambda z: reference(z.movedim(0, 1).unsqueeze(0), target.unsqueeze(0)),
        logits,
        TOL[mode],
    )


def test_rows_of_a_two_dimensional_input_are_scored_each_as_monai():
    logits, target = randn(6, 3, seed=7), labels((6,), 3, seed=8)
    matrix = distances(3, seed=9)
    module = xt.GeneralizedWassersteinDiceLoss(
        dist_matrix=matrix, from_logits=True, reduction="none"
    )
    reference = theirs(matrix, "default", reduction="none")
    assert_agree(lambda z: module(z, target), lambda z: reference(z, target), logits, F64)


def test_masked_and_ignored_pixels_are_monai_without_them():
    logits, target = randn(1, 3, 4, 5, seed=10), labels((1, 4, 5), 3, seed=11)
    keep = torch.rand(1, 4, 5, generator=torch.Generator().manual_seed(12)) < 0.6
    matrix = distances(3, seed=13)
    for mode in MODES:
        reference = theirs(matrix, mode)
        expected = reference(logits.movedim(1, -1)[keep].T[None], target[keep][None])
        module = xt.GeneralizedWassersteinDiceLoss(
            dist_matrix=matrix, weighting_mode=mode, from_logits=True, ignore_index=255
        )
        torch.testing.assert_close(module(logits, target, mask=keep), expected, **TOL[mode])
        ignored = torch.where(keep, target, 255)
        torch.testing.assert_close(module(logits, ignored), expected, **TOL[mode])


def test_probabilities_the_scale_of_the_matrix_and_soft_targets():
    logits, target = randn(2, 3, 4, 4, seed=14), labels((2, 4, 4), 3, seed=15)
    matrix = distances(3, seed=16)
    reference = float(theirs(matrix, "default")(logits, target))
    probabilities = torch.softmax(logits, 1)
    for m in (matrix, 7 * matrix, matrix / matrix.max()):  # only the ratios matter
        value = xt.GeneralizedWassersteinDiceLoss(dist_matrix=m)(probabilities, target)
        assert abs(float(value) - reference) < 1e-12
    # A soft target scores the expectation of labels drawn from it: its sums are the mean sums.
    seen = []

    def record(stats):
        seen.append(stats)
        return stats

    a, b = labels((2, 4, 4), 3, seed=17), labels((2, 4, 4), 3, seed=18)
    soft = (F.one_hot(a, 3) + F.one_hot(b, 3)).movedim(-1, 1).double() / 2
    for y in (a, b, soft):
        gwdl(y, probabilities, dist_matrix=matrix, class_axis=1, all_reduce=record)
    for mine, first, second in zip(seen[2], seen[0], seen[1], strict=True):
        torch.testing.assert_close(mine, (first + second) / 2, **F64)


@pytest.mark.parametrize("mode", MODES)
def test_all_reduce_over_halves_of_the_batch_is_the_whole_batch(mode):
    logits, target = randn(4, 3, 5, 5, seed=19), labels((4, 5, 5), 3, seed=20)
    matrix = distances(3, seed=21).tolist()
    options = {"dist_matrix": matrix, "weighting_mode": mode, "class_axis": 1}
    whole = gwdl(target, logits, from_logits=True, **options)
    halves = [(target[:2], logits[:2]), (target[2:], logits[2:])]
    other = {}

    def add_the_other_half(stats):  # a two-device all-reduce, one device at a time
        return type(stats)(*(s + o for s, o in zip(stats, other["stats"], strict=True)))

    def stats_of(y, z):
        captured = []
        gwdl(y, z, from_logits=True, all_reduce=lambda s: captured.append(s) or s, **options)
        return captured[0]

    other["stats"] = stats_of(*halves[1])
    first = gwdl(*halves[0], from_logits=True, all_reduce=add_the_other_half, **options)
    torch.testing.assert_close(first, whole, **F64)


# ---- MONAI's published cases (tests/losses/test_generalized_wasserstein_dice_loss.py) -------
SQUARE = torch.tensor([[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]])
BINARY = np.array([[0.0, 1.0], [1.0, 0.0]])


def very(target: torch.Tensor, good: bool) -> torch.Tensor:
    t = target if good else 1 - target
    return 1000 * F.one_hot(t, num_classes=2).movedim(-1, 1).float()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ["bin_seg_2d", "empty_class_2d", "bin_seg_3d"])
def test_monais_published_cases(mode, case):
    target = {
        "bin_seg_2d": SQUARE[None],
        "empty_class_2d": torch.zeros(1, 4, 4, dtype=torch.long),
        "bin_seg_3d": SQUARE.expand(3, 4, 4)[None],
    }[case]
    loss = xt.GeneralizedWassersteinDiceLoss(
        dist_matrix=BINARY, weighting_mode=mode, from_logits="softmax"
    )
    reference = theirs(BINARY, mode)
    for good, expected in ((True, 0.0), (False, 1.0)):
        pred = very(target, good)
        assert float(loss(pred, target)) == pytest.approx(expected, **PUBLISHED)
        value = loss(pred, target)  # float32, as the input; MONAI's matrix makes it float64
        torch.testing.assert_close(value.double(), reference(pred, target), **F32)
    with_channel = xt.GeneralizedWassersteinDiceLoss(
        dist_matrix=BINARY, weighting_mode=mode, from_logits="softmax", to_onehot_y=True
    )
    assert float(with_channel(very(target, True), target[:, None])) == pytest.approx(0.0, abs=5e-4)


@pytest.mark.parametrize("mode", MODES)
def test_monais_target_dtypes(mode):
    target = SQUARE[None]
    loss = xt.GeneralizedWassersteinDiceLoss(
        dist_matrix=BINARY, weighting_mode=mode, from_logits="softmax"
    )
    for dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64):
        assert float(loss(very(target, True), target.to(dtype))) == pytest.approx(0.0, abs=5e-4)


def test_monais_docstring_example():
    matrix = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [1.0, 0.5, 0.0]], dtype=np.float32)
    scores = torch.tensor([[1000, 0, 0], [0, 1000, 0], [0, 0, 1000]], dtype=torch.float32)
    classes = torch.tensor([0, 1, 2])
    ours = xt.GeneralizedWassersteinDiceLoss(dist_matrix=matrix, from_logits="softmax")
    assert float(ours(scores, classes)) == 0.0 == float(theirs(matrix, "default")(scores, classes))


@pytest.mark.parametrize("mode", MODES)
def test_monais_convergence_case_trains_as_monai(mode):
    """MONAI's one-layer network, 50 Adam steps: the same losses step by step as MONAI's."""
    target = SQUARE.expand(3, 4, 4)[None]
    image = (12 * target + 27).double()
    histories = []
    ours = xt.GeneralizedWassersteinDiceLoss(
        dist_matrix=BINARY, weighting_mode=mode, from_logits=True
    )
    for loss in (ours, theirs(BINARY, mode)):
        torch.manual_seed(0)
        net = nn.Linear(48, 96).double()
        optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
        history = []
        for _ in range(50):
            optimizer.zero_grad()
            value = loss(net(image.reshape(-1, 48)).reshape(-1, 2, 3, 4, 4), target)
            value.backward()
            optimizer.step()
            history.append(float(value.detach()))
        histories.append(history)
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-6, atol=1e-8)
    decreasing = np.mean(np.diff(histories[0]) < 0)
    assert decreasing > 0.75


# ---- every backend, eager and compiled: one small shape -------------------------------------
rng = np.random.default_rng(22)
LABELS = rng.integers(0, 3, (2, 4, 3))
LOGITS = 2 * rng.normal(size=(2, 4, 3, 3))
MATRIX = ((0.0, 1.0, 0.5), (2.0, 0.0, 0.25), (1.5, 0.75, 0.0))


def both_modes(y, z, m):
    """``"default"`` with a nested-tuple matrix, ``"GDL"`` with an array one (traced when
    compiled), per image."""
    default = gwdl(y, z, dist_matrix=MATRIX, from_logits="softmax", axis=(1, 2))
    gdl = gwdl(y, z, dist_matrix=m, weighting_mode="GDL", from_logits=True, axis=(1, 2),
               reduction="none")  # fmt: skip
    return default, gdl


def combined(y, z):
    default = gwdl(y, z, dist_matrix=MATRIX, from_logits="softmax", axis=(1, 2))
    gdl = gwdl(y, z, dist_matrix=MATRIX, weighting_mode="GDL", from_logits=True, axis=(0, 1, 2))
    return default + 0.5 * gdl


def monai_reference():
    z = torch.tensor(np.moveaxis(LOGITS, -1, 1), requires_grad=True)
    y = torch.tensor(LABELS)
    default = theirs(torch.tensor(MATRIX), "default")(z, y)
    gdl = theirs(torch.tensor(MATRIX), "GDL", reduction="none")(z, y)
    pooled = theirs(torch.tensor(MATRIX), "GDL")(z.movedim(0, 1)[None], y[None])
    (grad,) = torch.autograd.grad(default + 0.5 * pooled, z)
    values = (default.detach().numpy(), gdl.detach().numpy())
    return values, np.moveaxis(grad.numpy(), 1, -1)


def test_every_backend_gives_monais_values(backend):
    (default, gdl), _ = monai_reference()
    arrays = [backend.asarray(a) for a in (LABELS, LOGITS, np.array(MATRIX))]
    got = backend.call(both_modes, *arrays)
    np.testing.assert_allclose(backend.to_numpy(got[0]), default, **F64)
    np.testing.assert_allclose(backend.to_numpy(got[1]), gdl, **GDL)


def test_every_backend_gives_monais_gradients(autodiff_backend):
    _, expected = monai_reference()
    b = autodiff_backend
    got = b.grad(combined, b.asarray(LABELS), b.asarray(LOGITS))
    np.testing.assert_allclose(got, expected, **GDL)


# ---- edge cases: finite values and gradients ------------------------------------------------
def edge_cases():
    """(name, target, logits, mask): empty class, one class, a single pixel, nothing kept."""
    perfect = 1e4 * F.one_hot(torch.zeros(1, 3, 3, dtype=torch.long), 3).movedim(-1, 1)
    only_two = torch.full((1, 3, 3), 2)
    yield "empty class", labels((2, 3, 3), 2, seed=23), randn(2, 3, 3, 3, seed=24), None
    yield "all background, perfect", torch.zeros(1, 3, 3, dtype=torch.long), perfect.double(), None
    yield "all one class", only_two, randn(1, 3, 3, 3, seed=25), None
    yield "single pixel", torch.tensor([[1]]), randn(1, 3, 1, seed=26), None
    yield "saturated", labels((2, 3, 3), 3, seed=27), randn(2, 3, 3, 3, seed=28, scale=1e4), None
    yield "nothing kept", labels((2, 3, 3), 3, seed=29), randn(2, 3, 3, 3, seed=30), "empty"


@pytest.mark.parametrize("smooth", [1e-5, 0.0])
@pytest.mark.parametrize("mode", MODES)
def test_edge_cases_have_finite_values_and_gradients(mode, smooth):
    for name, target, logits, mask in edge_cases():
        loss = xt.GeneralizedWassersteinDiceLoss(
            dist_matrix=distances(3, seed=31), weighting_mode=mode, from_logits=True,
            smooth_nr=smooth, smooth_dr=smooth,
        )  # fmt: skip
        z = logits.clone().requires_grad_(True)
        kept = None if mask is None else torch.zeros_like(target, dtype=torch.bool)
        value = loss(z, target, mask=kept)
        (grad,) = torch.autograd.grad(value, z)
        assert torch.isfinite(value) and torch.isfinite(grad).all(), name
        if mask is None and (smooth > 0 or name != "all background, perfect"):
            reference = theirs(distances(3, seed=31), mode, smooth_nr=smooth, smooth_dr=smooth)
            torch.testing.assert_close(value, reference(logits, target), **TOL[mode])
        if mask is not None or name == "all background, perfect":
            assert float(value.detach()) == pytest.approx(0.0, abs=1e-9), name  # no error: loss 0


def test_an_exact_zero_over_zero_is_a_perfect_score_where_monai_is_nan():
    target = torch.zeros(1, 2, 2, dtype=torch.long)
    logits = torch.tensor([[[[0.0, 0.0], [0.0, 0.0]], [[-torch.inf] * 2] * 2]], dtype=torch.float64)
    reference = theirs(BINARY, "default", smooth_nr=0.0, smooth_dr=0.0)(logits, target)
    ours = xt.GeneralizedWassersteinDiceLoss(
        dist_matrix=BINARY, from_logits=True, smooth_nr=0, smooth_dr=0
    )(logits, target)
    assert torch.isnan(reference) and float(ours) == 0.0


def test_nan_propagates():
    logits = randn(1, 3, 2, 2, seed=32)
    logits[0, 1, 0, 0] = torch.nan
    assert torch.isnan(gwdl(labels((1, 2, 2), 3, seed=33), logits, class_axis=1, from_logits=True))


# ---- bad dist_matrix and from_logits: errors that name the argument --------------------------
BAD = [
    (np.ones((2, 3)), r"dist_matrix must be a C x C matrix.*shape \(2, 3\)"),
    (np.zeros(3), r"dist_matrix must be a C x C.*shape \(3,\)"),
    (np.zeros((2, 2, 2)), r"dist_matrix must be a C x C.*shape \(2, 2, 2\)"),
    ([[0.0, 1.0], [1.0]], r"dist_matrix must be a C x C matrix.*\(\(0.0, 1.0\), \(1.0,\)\)"),
    ([0.0, 1.0, 1.0, 0.0], r"dist_matrix must be a C x C matrix"),
    (0.5, r"dist_matrix must be a C x C matrix"),
    ([[0.0, -1.0], [1.0, 0.0]], r"dist_matrix must hold finite values >= 0"),
    (np.array([[0.0, -1.0], [1.0, 0.0]]), r"dist_matrix must hold values >= 0"),
    ([[0.5, 1.0], [1.0, 0.0]], r"dist_matrix \(2 x 2\) must have a zero diagonal.*\[0.5, 0.0\]"),
    (np.array([[0.0, 1.0], [1.0, 2.0]]), r"dist_matrix \(2 x 2\) must have a zero diagonal"),
    (np.array([[0.0, np.inf], [1.0, 0.0]]), r"dist_matrix of shape 2 x 2 must hold finite"),
    (np.array([[0.0, np.nan], [1.0, 0.0]]), r"dist_matrix of shape 2 x 2 must hold finite"),
    ([[0.0, 0.0], [0.0, 0.0]], r"dist_matrix \(2 x 2\) holds no positive distance"),
    (torch.zeros(3, 3), r"dist_matrix \(3 x 3\) holds no positive distance"),
    ({0: 1.0}, r"dist_matrix must be None, a number >= 0"),
]


@pytest.mark.parametrize(("matrix", "message"), BAD)
def test_a_bad_dist_matrix_is_named_with_its_shape(matrix, message):
    y, z = np.zeros((1, 2, 2), np.int64), np.zeros((1, 2, 2, 2))
    with pytest.raises((ValueError, TypeError), match=message):
        gwdl(y, z, dist_matrix=matrix)
    if not isinstance(matrix, np.ndarray):
        return
    with pytest.raises((ValueError, TypeError), match=message):
        xt.GeneralizedWassersteinDiceLoss(dist_matrix=torch.as_tensor(matrix))


def test_a_matrix_of_another_class_count_names_both():
    message = (
        r"dist_matrix is 3 x 3, but y_pred of shape \(2, 4, 5, 6\) has 4 classes on "
        r"class_axis=1"
    )
    loss = xt.GeneralizedWassersteinDiceLoss(dist_matrix=distances(3, seed=34))
    with pytest.raises(ValueError, match=message):
        loss(torch.rand(2, 4, 5, 6, dtype=torch.float64), labels((2, 5, 6), 4, seed=35))


def test_a_sigmoid_and_unknown_weighting_modes_are_errors():
    y, z = np.zeros((1, 2), np.int64), np.zeros((1, 2, 2))
    with pytest.raises(ValueError, match=r"from_logits='sigmoid'.*softmax over class_axis"):
        gwdl(y, z, from_logits="sigmoid")
    with pytest.raises(ValueError, match=r"weighting_mode='gdl' is not one of 'default', 'GDL'"):
        gwdl(y, z, weighting_mode="gdl")
    assert xt.GeneralizedWassersteinDiceLoss(from_logits=True).from_logits == "softmax"


# ---- the adapters: a buffer in PyTorch, nested lists in a Keras config -----------------------
def test_the_torch_matrix_is_a_buffer_of_the_state_dict():
    module = xt.GeneralizedWassersteinDiceLoss(dist_matrix=[[0, 1], [2, 0]])
    state = module.state_dict()
    assert list(state) == ["dist_matrix"] and state["dist_matrix"].dtype == torch.float32
    fresh = xt.GeneralizedWassersteinDiceLoss(dist_matrix=torch.ones(2, 2) - torch.eye(2))
    fresh.load_state_dict(state, strict=True)
    torch.testing.assert_close(fresh.dist_matrix, torch.tensor([[0.0, 1.0], [2.0, 0.0]]))
    assert "dist_matrix=<Tensor of shape (2, 2)>" in repr(fresh)
    assert fresh.double().dist_matrix.dtype == torch.float64


def test_the_keras_loss_is_per_sample_and_its_config_holds_nested_lists():
    keras = pytest.importorskip("keras")
    import xploss.keras as xk

    matrix = distances(3, seed=36).numpy()
    loss = xk.GeneralizedWassersteinDiceLoss(dist_matrix=matrix, weighting_mode="GDL")
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(loss)))
    assert config["config"]["dist_matrix"] == matrix.tolist()
    again = keras.saving.deserialize_keras_object(config)
    y = LABELS.astype(np.float32)  # Keras casts targets to floats
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
    per_sample = gwdl(LABELS, p, dist_matrix=matrix, weighting_mode="GDL", axis=(1, 2),
                      reduction="none")  # fmt: skip
    for each in (loss, again):
        assert float(each(y, p)) == pytest.approx(float(per_sample.mean()), rel=1e-5)
