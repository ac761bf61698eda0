"""The Flax NNX ``ConfusionMatrixMetric``: its values over several updates equal the functional
API and scikit-learn (global and samplewise, every average, softmax and sigmoid, one-hot and
sparse labels, with and without the background), under ``nnx.jit`` and in an ``nnx.MultiMetric``;
``compute_report``'s names; the named subclasses; the errors; and, in a process with two host
devices, the whole data's values on every device under ``shard_map`` with ``all_reduce``."""

from __future__ import annotations

import inspect
import json
import warnings

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
nnx = pytest.importorskip("flax.nnx")
skm = pytest.importorskip("sklearn.metrics")

import xploss  # noqa: E402
import xploss.jax as xj  # noqa: E402
from tests.test_distributed import run  # noqa: E402

AVERAGES = ("micro", "macro", "weighted", "none")
CHUNKS = (slice(0, 2), slice(2, 4), slice(4, 6))  # three updates of one shape: one compilation


def data(seed: int = 0, shape: tuple[int, ...] = (6, 8, 8, 3)):
    """Logits and class indices, NumPy (JAX would compile each eager operation); class 2 absent
    from the labels of the first two images."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape).astype(np.float32) * 2
    labels = rng.integers(0, shape[-1], shape[:-1])
    labels[:2] %= 2
    return logits, labels


@nnx.jit
def step(metrics, logits, labels, mask=None):
    metrics.update(logits=logits, labels=labels, mask=mask)
    return metrics.compute()


def accumulated(metrics, logits, labels, mask=None):
    """The values of ``metrics`` (a dict, or one metric) after an update by each chunk, all
    in one ``nnx.MultiMetric`` updated in one jitted step (one compilation for all)."""
    multi = nnx.MultiMetric(**(metrics if isinstance(metrics, dict) else {"one": metrics}))
    for rows in CHUNKS:
        values = step(multi, logits[rows], labels[rows], None if mask is None else mask[rows])
    return values if isinstance(metrics, dict) else values["one"]


@nnx.jit
def reports(metrics):
    return {name: metric.compute_report() for name, metric in metrics.items()}


def hard(logits, activation: str) -> np.ndarray:
    """The predicted indicator ``(..., C)``: the arg-max, or the sigmoid above 0.5."""
    if activation == "softmax":
        return np.eye(logits.shape[-1], dtype=bool)[np.argmax(logits, axis=-1)]
    return logits > 0  # sigmoid(z) > 0.5


def specificity(y, p):
    return skm.recall_score(~y, ~p, zero_division=0)


PER_CLASS = {  # scikit-learn's binary scores, taken of each class against the rest
    "specificity": specificity,
    "matthews_corrcoef": skm.matthews_corrcoef,
    "balanced_accuracy": skm.balanced_accuracy_score,
}


def one_vs_rest(score, y, p, classes, average):
    """A binary score of each class against the rest, averaged: ``micro`` pools the classes'
    binary problems, ``weighted`` weighs by the support."""
    if average == "micro":
        return score(y[:, classes].ravel(), p[:, classes].ravel())
    per_class = np.array([score(y[:, c], p[:, c]) for c in classes])
    if average == "none":
        return per_class
    weights = None if average == "macro" else y[:, classes].sum(axis=0)
    return np.average(per_class, weights=weights)


def sklearn_scores(y, p, classes, average, names, beta=2.0):
    """scikit-learn's scores of the indicators ``y``, ``p`` ``(N, C)`` over ``classes``."""
    multilabel = {"labels": classes, "average": None if average == "none" else average}
    peers = {
        "dice": lambda: skm.f1_score(y, p, zero_division=0, **multilabel),
        "precision": lambda: skm.precision_score(y, p, zero_division=0, **multilabel),
        "recall": lambda: skm.recall_score(y, p, zero_division=0, **multilabel),
        "f_beta": lambda: skm.fbeta_score(y, p, beta=beta, zero_division=0, **multilabel),
    }
    peers.update(
        {name: lambda s=s: one_vs_rest(s, y, p, classes, average) for name, s in PER_CLASS.items()}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's notes on 0/0, scored 0 as xploss does
        return {name: np.asarray(peers[name]()) for name in names}


def indicators(labels, logits, activation):
    """The one-hot labels and the hard predictions, ``(N, C)``."""
    classes = logits.shape[-1]
    y = np.eye(classes, dtype=bool)[labels]
    return y.reshape(-1, classes), hard(logits, activation).reshape(-1, classes)


GLOBAL_SCORES = ("dice", "precision", "recall", "f_beta", *PER_CLASS)
# every average, and with and without the background (each of them once: one compilation)
GLOBAL = [("micro", False), ("macro", True), ("weighted", False), ("none", True)]


def global_options(average, include_background):
    return {
        "from_logits": "softmax",
        "average": average,
        "include_background": include_background,
        "beta": 2.0,
    }


@pytest.fixture(scope="module")
def global_values():
    logits, labels = data(1)
    metrics = {
        f"{average}_{background}": xj.ConfusionMatrixMetric(
            metrics=GLOBAL_SCORES, num_classes=3, **global_options(average, background)
        )
        for average, background in GLOBAL
    }
    return logits, labels, accumulated(metrics, logits, labels)


@pytest.mark.parametrize(("average", "include_background"), GLOBAL)
def test_global_scores_equal_the_functional_api_and_sklearn(
    global_values, average, include_background
):
    logits, labels, values = global_values
    got = values[f"{average}_{include_background}"]
    options = global_options(average, include_background)
    classes = [0, 1, 2] if include_background else [1, 2]
    peers = sklearn_scores(*indicators(labels, logits, "softmax"), classes, average, GLOBAL_SCORES)
    for name in GLOBAL_SCORES:
        functional = xploss.confusion_metric(labels, logits, metric=name, **options)
        np.testing.assert_allclose(got[name], functional, rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(got[name], peers[name], rtol=1e-5, err_msg=name)


SAMPLEWISE_SCORES = ("dice", "recall", "matthews_corrcoef")


def samplewise_options(average):
    return {"from_logits": True, "average": average, "aggregation_level": "samplewise"}


@pytest.fixture(scope="module")
def samplewise_values():
    logits, labels = data(2)
    onehot = np.eye(3, dtype=np.float32)[labels]
    metrics = {
        average: xj.ConfusionMatrixMetric(
            metrics=SAMPLEWISE_SCORES, num_classes=3, **samplewise_options(average)
        )
        for average in AVERAGES
    }
    return logits, labels, accumulated(metrics, logits, onehot)


@pytest.mark.parametrize("average", AVERAGES)
def test_samplewise_scores_of_one_hot_labels_and_sigmoid_equal_sklearn_per_image(
    samplewise_values, average
):
    logits, labels, values = samplewise_values
    got, names = values[average], SAMPLEWISE_SCORES
    per_image = [
        sklearn_scores(*indicators(labels[i], logits[i], "sigmoid"), [0, 1, 2], average, names)
        for i in range(labels.shape[0])
    ]
    onehot = np.eye(3, dtype=np.float32)[labels]
    for name in names:
        peer = np.mean([scores[name] for scores in per_image], axis=0)
        np.testing.assert_allclose(got[name], peer, rtol=1e-5, err_msg=name)
        functional = xploss.confusion_metric(
            onehot, logits, metric=name, **samplewise_options(average)
        )
        np.testing.assert_allclose(got[name], functional, rtol=1e-5, err_msg=name)


def test_samplewise_empty_class_without_background_equals_the_functional_api():
    """Class 2 is absent from the first images: the policy decides what they score."""
    logits, labels = data(3)
    names = ("iou", "specificity")
    options = {
        policy: {
            "from_logits": "softmax",
            "aggregation_level": "samplewise",
            "include_background": False,
            "empty_class": policy,
        }
        for policy in ("perfect", "exclude")
    }
    metrics = {
        policy: xj.ConfusionMatrixMetric(metrics=names, num_classes=3, **chosen)
        for policy, chosen in options.items()
    }
    values, report = accumulated(metrics, logits, labels), reports(metrics)
    for policy, chosen in options.items():
        for name in names:
            functional = xploss.confusion_metric(labels, logits, metric=name, **chosen)
            np.testing.assert_allclose(values[policy][name], functional, rtol=1e-5)
            per_class = xploss.confusion_metric(
                labels, logits, metric=name, average="none", **chosen
            )
            shown = [report[policy][f"{name}/{c}"] for c in (1, 2)]
            np.testing.assert_allclose(shown, per_class, rtol=1e-5, err_msg=f"{policy} {name}")


def test_binary_mask_without_class_axis_equals_sklearn_and_the_functional_api():
    logits, labels = data(4)
    z, mask = logits[..., 0], (labels == 1).astype(np.float32)  # (B, H, W): no class axis
    metric = xj.ConfusionMatrixMetric(metrics=("dice", "mcc", "npv"), from_logits=True)
    got = accumulated(metric, z, mask)
    y, p = mask.ravel() > 0, z.ravel() > 0
    np.testing.assert_allclose(got["dice"], skm.f1_score(y, p), rtol=1e-5)
    np.testing.assert_allclose(got["matthews_corrcoef"], skm.matthews_corrcoef(y, p), rtol=1e-5)
    npv = got["negative_predictive_value"]
    np.testing.assert_allclose(npv, skm.precision_score(~y, ~p), rtol=1e-5)
    functional = xploss.negative_predictive_value(mask, z, class_axis=None, from_logits=True)
    np.testing.assert_allclose(npv, functional, rtol=1e-6)
    assert metric.counts[...].shape == (4, 1)


def test_mask_and_ignore_index_leave_elements_out_as_in_sklearn():
    logits, labels = data(5)
    keep = np.random.default_rng(9).random(labels.shape) < 0.7
    metric = xj.ConfusionMatrixMetric(
        metrics="precision", num_classes=3, from_logits="softmax", ignore_index=2, average="none"
    )
    got = accumulated(metric, logits, labels, keep)
    y, p = indicators(labels, logits, "softmax")
    kept = keep.ravel() & (labels.ravel() != 2)
    peer = sklearn_scores(y[kept], p[kept], [0, 1, 2], "none", ("precision",))["precision"]
    np.testing.assert_allclose(got, peer, rtol=1e-5)


def test_in_a_multimetric_beside_average_under_nnx_jit():
    logits, labels = data(6)
    options = {"num_classes": 3, "from_logits": "softmax"}
    metrics = nnx.MultiMetric(
        confusion=xj.ConfusionMatrixMetric(metrics=("dice", "specificity"), **options),
        specificity=xj.Specificity(aggregation_level="samplewise", **options),
        loss=nnx.metrics.Average("loss"),
    )

    @nnx.jit
    def eval_step(metrics, logits, labels):
        loss = jnp.mean(jax.nn.logsumexp(logits, axis=-1))  # any loss: Average's input
        metrics.update(logits=logits, labels=labels, loss=loss)
        return loss

    losses = [eval_step(metrics, logits[rows], labels[rows]) for rows in CHUNKS]
    result = nnx.jit(lambda metrics: metrics.compute())(metrics)
    for name in ("dice", "specificity"):
        functional = xploss.confusion_metric(labels, logits, metric=name, from_logits="softmax")
        np.testing.assert_allclose(result["confusion"][name], functional, rtol=1e-5)
    samplewise = xploss.specificity(
        labels, logits, from_logits="softmax", aggregation_level="samplewise"
    )
    np.testing.assert_allclose(result["specificity"], samplewise, rtol=1e-5)
    np.testing.assert_allclose(result["loss"], np.mean(losses), rtol=1e-6)
    metrics.reset()
    assert not np.any(np.asarray(metrics.confusion.counts[...]))


def test_compute_report_names_the_classes_and_matches_average_none():
    logits, labels = data(7)
    names = ("background", "liver", "tumour")
    scores = ("dice", "recall")
    shown = {True: names, False: names[1:]}
    metrics = {
        str(background): xj.ConfusionMatrixMetric(
            metrics=scores,
            num_classes=3,
            from_logits="softmax",
            class_names=names,
            include_background=background,
        )
        for background in shown
    }
    metrics["indices"] = xj.ConfusionMatrixMetric(num_classes=3, include_background=False)
    metrics["none"] = xj.ConfusionMatrixMetric(num_classes=3, average="none")
    accumulated(metrics, logits, labels)
    found = reports(metrics)
    for background, classes in shown.items():
        report = found[str(background)]
        order = [key for score in scores for key in (score, *(f"{score}/{c}" for c in classes))]
        assert list(report) == order
        chosen = {"from_logits": "softmax", "include_background": background}
        for score in scores:
            per_class = xploss.confusion_metric(
                labels, logits, metric=score, average="none", **chosen
            )
            values = [report[f"{score}/{c}"] for c in classes]
            np.testing.assert_allclose(values, per_class, rtol=1e-5)
            averaged = xploss.confusion_metric(labels, logits, metric=score, **chosen)
            np.testing.assert_allclose(report[score], averaged, rtol=1e-5)
    assert list(found["indices"]) == ["dice", "dice/1", "dice/2"]
    assert list(found["none"]) == ["dice/0", "dice/1", "dice/2"]  # compute()'s value is those


NAMED = {
    "Specificity": "specificity",
    "FBetaScore": "f_beta",
    "BalancedAccuracy": "balanced_accuracy",
    "MatthewsCorrCoef": "matthews_corrcoef",
    "NegativePredictiveValue": "negative_predictive_value",
    "FalsePositiveRate": "false_positive_rate",
    "FalseNegativeRate": "false_negative_rate",
}


def test_named_subclasses_compute_their_score_alone():
    assert set(xj.confusion.__all__) == {*NAMED, "ConfusionMatrixMetric"}
    for name in xj.confusion.__all__:  # xploss.jax loads them on first use
        assert getattr(xj, name) is getattr(xj.confusion, name)
    logits, labels = data(8)
    options = {"num_classes": 3, "from_logits": "softmax", "beta": 0.5}
    values = accumulated({name: getattr(xj, name)(**options) for name in NAMED}, logits, labels)
    for class_name, score in NAMED.items():
        functional = xploss.confusion_metric(
            labels, logits, metric=score, from_logits="softmax", beta=0.5
        )
        np.testing.assert_allclose(values[class_name], functional, rtol=1e-5, err_msg=class_name)
        cls = getattr(xj, class_name)
        assert "metrics" not in inspect.signature(cls).parameters
        with pytest.raises(TypeError, match="ConfusionMatrixMetric"):
            cls(metrics=("dice",))


def test_before_any_update_every_score_is_zero_division():
    metric = xj.ConfusionMatrixMetric(
        metrics=("dice", "mcc"), num_classes=2, zero_division=0.25, aggregation_level="samplewise"
    )
    values = {name: float(value) for name, value in metric.compute().items()}
    assert values == {"dice": 0.25, "matthews_corrcoef": 0.25}
    assert metric.images[...].shape == (2, 2, 3)  # two scores, sums and numbers, 2 classes + 1
    assert repr(metric).startswith("ConfusionMatrixMetric(") and metric.num_classes == 2


def test_state_is_float64_where_jax_has_it_when_the_metric_is_built():
    with jax.enable_x64(True):
        wide = xj.ConfusionMatrixMetric(num_classes=2, aggregation_level="samplewise")
    # Another test may have switched float64 on for the whole process: pin it off here.
    with jax.enable_x64(False):
        narrow = xj.ConfusionMatrixMetric(num_classes=2, aggregation_level="samplewise")
    assert {wide.counts[...].dtype, wide.images[...].dtype} == {jnp.dtype("float64")}
    assert {narrow.counts[...].dtype, narrow.images[...].dtype} == {jnp.dtype("float32")}


def test_bad_options_and_inputs_raise_clear_errors():
    logits, labels = data(0)
    metric = xj.ConfusionMatrixMetric(num_classes=4, from_logits="softmax")
    with pytest.raises(ValueError, match=r"num_classes=4.*3 classes"):
        metric.update(logits=logits, labels=labels)
    with pytest.raises(TypeError, match="constructor"):
        metric.update(logits=logits, labels=labels, all_reduce=xj.all_reduce("batch"))
    with pytest.raises(ValueError, match="class_axis=1 needs num_classes"):
        xj.ConfusionMatrixMetric(class_axis=1)
    with pytest.raises(ValueError, match=r"softmax.*needs num_classes"):
        xj.ConfusionMatrixMetric(from_logits="softmax")
    with pytest.raises(ValueError, match="class_axis=None with num_classes=3"):
        xj.ConfusionMatrixMetric(num_classes=3, class_axis=None)
    with pytest.raises(ValueError, match=r"got 2 class_names .* for an input of 3 classes"):
        xj.ConfusionMatrixMetric(num_classes=3, class_names=("a", "b"))
    with pytest.raises(TypeError, match="class_names must be a sequence of str"):
        xj.ConfusionMatrixMetric(num_classes=1, class_names="tumour")
    with pytest.raises(ValueError, match="not a confusion-matrix score"):
        xj.ConfusionMatrixMetric(metrics=("dice", "sharpness"))
    with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
        xj.ConfusionMatrixMetric(axis=(1, 2))


def test_shard_map_over_two_devices_gives_the_whole_data_on_every_device():
    flags = "--xla_force_host_platform_device_count=2"
    output = run("tests.distributed.jax_confusion", env={"XLA_FLAGS": flags}, timeout=240)
    result = json.loads(output.strip().splitlines()[-1])
    single = result["single"]
    assert set(single) == {"global_macro", "samplewise_macro", "samplewise_none"}
    first, second = result["devices"]
    assert first == second  # one state, the same on both devices
    for config, scores in single.items():
        assert set(first[config]) == set(scores), config
        for name, value in scores.items():
            np.testing.assert_allclose(first[config][name], value, rtol=1e-5, err_msg=config)
        # each device's images alone score otherwise: the sum over the devices makes it equal
        assert any(
            not np.allclose(local[config][name], value, rtol=1e-4)
            for local in result["local"]
            for name, value in scores.items()
        ), config


def test_entries_count_the_images_each_class_entered_with():
    """MONAI's ``not_nans``: with ``empty_class="exclude"`` an image where a class is in neither
    the labels nor the prediction leaves that class's mean."""
    logits, labels = data(5)
    logits[:3, ..., 2] = -50.0  # class 2 neither predicted ...
    labels[:3] %= 2  # ... nor labelled in the first three images
    metric = xj.ConfusionMatrixMetric(metrics="iou", num_classes=3, from_logits="softmax",
                                      aggregation_level="samplewise", average="none",
                                      empty_class="exclude")  # fmt: skip
    metric.update(logits=logits, labels=labels)
    predicted = logits.argmax(-1)
    expected = [
        sum(bool(((labels[b] == c) | (predicted[b] == c)).any()) for b in range(len(labels)))
        for c in range(3)
    ]
    assert expected[2] == 3
    np.testing.assert_array_equal(np.asarray(metric.entries()["iou"]), expected)
