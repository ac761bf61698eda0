"""JAX and Flax: jit/grad/vmap/checkpoint, no retracing, the psum all-reduce, Flax NNX metrics in
a jitted eval step, a jitted NNX + optax training step, and the comparison with optax."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

import xploss  # noqa: E402
import xploss.jax as xj  # noqa: E402
from tests import oracle  # noqa: E402


def logits_and_labels(seed=0, shape=(4, 8, 8, 3)):
    key_logits, key_labels = jax.random.split(jax.random.PRNGKey(seed))
    logits = jax.random.normal(key_logits, shape, jnp.float32) * 2
    labels = jax.random.randint(key_labels, shape[:-1], 0, shape[-1])
    return logits, labels


def test_jit_grad_and_checkpoint_agree_with_eager():
    logits, labels = logits_and_labels()

    def loss(z):
        return xploss.generalized_dice_loss(labels, z, axis=(1, 2), from_logits="softmax")

    eager_value, eager_grad = loss(logits), jax.grad(loss)(logits)
    np.testing.assert_allclose(jax.jit(loss)(logits), eager_value, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(jax.grad(loss))(logits), eager_grad, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(jax.grad(jax.checkpoint(loss))(logits), eager_grad, rtol=1e-6)
    assert np.all(np.isfinite(eager_grad))


def test_vmap_over_examples_equals_the_batched_call():
    logits, labels = logits_and_labels(1)
    onehot = jax.nn.one_hot(labels, 3)
    per_example = jax.vmap(
        lambda y, z: xploss.bce_dice_loss(y, z, from_logits=True, smooth_nr=1, smooth_dr=1)
    )(onehot, logits)
    batched = xploss.bce_dice_loss(
        onehot,
        logits,
        axis=(1, 2, 3),
        from_logits=True,
        smooth_nr=1,
        smooth_dr=1,
        reduction="none",
    )
    np.testing.assert_allclose(per_example, batched, rtol=1e-6)


def test_no_retrace_when_only_values_change():
    traces = []

    @jax.jit
    def step(labels, logits):
        traces.append(1)  # runs only while tracing
        return xploss.dice_loss(labels, logits, axis=(1, 2), from_logits="softmax")

    for seed in range(5):
        logits, labels = logits_and_labels(seed)
        step(labels, logits).block_until_ready()
    assert len(traces) == 1


def test_all_reduce_psum_gives_the_global_batch_dice():
    """One large, well-predicted object and three small, missed ones: their mean Dice is 0.26,
    the Dice of the batch 0.81."""
    onehot = jnp.zeros((4, 8, 8, 1)).at[0].set(1).at[1:, 0, 0, 0].set(1)
    logits = jnp.where(jnp.arange(4)[:, None, None, None] == 0, 0.9, 0.1) * jnp.ones_like(onehot)
    options = {"smooth_nr": 0.0, "smooth_dr": 0.0}
    per_device = jax.vmap(
        lambda y, z: xploss.dice_coefficient(y, z, all_reduce=xj.all_reduce("batch"), **options),
        axis_name="batch",
    )(onehot, logits)
    global_dice = xploss.dice_coefficient(onehot, logits, **options)
    np.testing.assert_allclose(per_device, jnp.full((4,), global_dice), rtol=1e-6)
    averaged = jax.vmap(lambda y, z: xploss.dice_coefficient(y, z, **options))(onehot, logits)
    assert abs(float(averaged.mean()) - float(global_dice)) > 0.5  # averaging Dice is wrong


def test_optax_dice_loss_is_xploss_with_doubled_smoothing():
    optax = pytest.importorskip("optax")
    logits, labels = logits_and_labels(3)
    onehot = jax.nn.one_hot(labels, 3)
    for smooth in (1.0, 1e-3):
        reference = optax.losses.dice_loss(logits, onehot, smooth=smooth)
        ours = xploss.dice_loss(
            onehot,
            logits,
            axis=(1, 2),
            from_logits="softmax",
            smooth_nr=2 * smooth,
            smooth_dr=2 * smooth,
            reduction="per_sample",
        )
        np.testing.assert_allclose(ours, reference, rtol=1e-5)
    binary = optax.losses.binary_dice_loss(logits[..., :1], onehot[..., :1])
    ours = xploss.dice_loss(
        onehot[..., :1],
        logits[..., :1],
        axis=(1, 2, 3),
        from_logits=True,
        smooth_nr=2,
        smooth_dr=2,
        reduction="none",
    )
    np.testing.assert_allclose(ours, binary, rtol=1e-5)


def test_where_xploss_is_right_and_optax_is_not():
    """1. optax checks probabilities with a Python ``if`` on array values, so
    ``apply_softmax=False`` fails under jit; xploss never reads a value.
    2. optax's generalized Dice weights an absent class by 1/(0 + 1e-7): after normalisation it
    takes nearly all the weight, and a prediction that swaps the two present classes scores
    almost 0. xploss gives the absent class the largest present weight."""
    optax = pytest.importorskip("optax")
    probs = jax.nn.softmax(logits_and_labels(4)[0], axis=-1)
    onehot = jax.nn.one_hot(logits_and_labels(4)[1], 3)
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jax.jit(lambda p, t: optax.losses.dice_loss(p, t, apply_softmax=False))(probs, onehot)
    ours = jax.jit(lambda t, p: xploss.dice_loss(t, p, axis=(1, 2)))(onehot, probs)
    assert np.isfinite(ours)

    labels = jnp.array([[0, 1, 1, 0], [1, 0, 0, 1]])  # class 2 absent
    swapped = jax.nn.one_hot(1 - labels, 3)
    target = jax.nn.one_hot(labels, 3)
    theirs = optax.losses.multiclass_generalized_dice_loss(swapped * 20 - 10, target)
    ours = xploss.generalized_dice_loss(
        target, swapped * 20 - 10, from_logits="softmax", axis=(0, 1)
    )
    assert float(ours) > 0.99  # every present pixel is wrong
    assert float(theirs) < 0.05


def test_every_class_absent_optax_neither_returns_0_nor_ignores_the_prediction():
    """The README's edge values: with every class absent MONAI returns a loss of 0 whatever the
    prediction. optax's value there is neither 0 nor the same for every prediction; xploss
    scores the false positives."""
    optax = pytest.importorskip("optax")
    empty = jnp.zeros((1, 4, 2))
    confident = jnp.array([[[5.0, -5.0]] * 4])
    mixed = jnp.array([[[5.0, -5.0], [5.0, -5.0], [-5.0, 5.0], [0.0, 0.0]]])
    theirs = [
        float(optax.losses.multiclass_generalized_dice_loss(z, empty)) for z in (confident, mixed)
    ]
    assert min(theirs) > 0.3 and abs(theirs[0] - theirs[1]) > 0.1
    ours = xploss.generalized_dice_loss(empty, confident, from_logits="softmax", axis=(0, 1))
    assert float(ours) > 0.99


def test_flax_nnx_metrics_accumulate_in_a_jitted_eval_step():
    nnx = pytest.importorskip("flax.nnx")
    logits, labels = logits_and_labels(5, shape=(6, 8, 8, 3))
    metrics = nnx.MultiMetric(
        dice=xj.DiceCoefficient(num_classes=3, from_logits="softmax"),
        tpr=xj.TruePositiveRate(from_logits="softmax"),
        loss=nnx.metrics.Average("loss"),
    )

    @nnx.jit
    def eval_step(metrics, logits, labels):
        loss = xploss.dice_loss(labels, logits, from_logits="softmax")
        metrics.update(logits=logits, labels=labels, loss=loss)

    for rows in (slice(0, 2), slice(2, 3), slice(3, 6)):
        eval_step(metrics, logits[rows], labels[rows])
    result = metrics.compute()
    options = {"from_logits": "softmax", "threshold": 0.5}
    dice = xploss.dice_coefficient(
        labels, logits, axis=(0, 1, 2), smooth_nr=0, smooth_dr=0, **options
    )
    np.testing.assert_allclose(result["dice"], dice, rtol=1e-6)
    np.testing.assert_allclose(
        result["tpr"], xploss.true_positive_rate(labels, logits, **options), rtol=1e-6
    )
    metrics.reset()
    assert float(metrics.compute()["dice"]) == 1.0  # nothing seen: 0/0 is zero_division


def test_flax_nnx_jaccard_and_precision_in_a_jitted_eval_step():
    nnx = pytest.importorskip("flax.nnx")
    logits, labels = logits_and_labels(6, shape=(6, 8, 8, 3))
    metrics = nnx.MultiMetric(
        iou=xj.JaccardIndex(num_classes=3, from_logits="softmax"),
        precision=xj.Precision(from_logits="softmax"),
    )

    @nnx.jit
    def eval_step(metrics, logits, labels):
        metrics.update(logits=logits, labels=labels)

    for rows in (slice(0, 1), slice(1, 6)):
        eval_step(metrics, logits[rows], labels[rows])
    result = metrics.compute()
    options = {"from_logits": "softmax", "threshold": 0.5}
    iou = xploss.jaccard_index(labels, logits, axis=(0, 1, 2), smooth_nr=0, smooth_dr=0, **options)
    np.testing.assert_allclose(result["iou"], iou, rtol=1e-6)
    np.testing.assert_allclose(
        result["precision"], xploss.precision(labels, logits, **options), rtol=1e-6
    )
    # exclusive classes: the one-hot of the arg-max, whatever the threshold
    hard = oracle.harden(np.asarray(jax.nn.softmax(logits), np.float64), 0.5, "softmax", -1)
    onehot = np.eye(3)[np.asarray(labels)]
    np.testing.assert_allclose(
        result["precision"], oracle.precision(onehot, hard, (0, 1, 2, 3), None), rtol=1e-6
    )


def test_tversky_losses_under_jit_grad_vmap_and_psum():
    logits, labels = logits_and_labels(7)
    onehot = jax.nn.one_hot(labels, 3)

    def loss(z):
        return xploss.focal_tversky_loss(labels, z, axis=(1, 2), from_logits="softmax")

    eager_grad = jax.grad(loss)(logits)
    np.testing.assert_allclose(jax.jit(loss)(logits), loss(logits), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(jax.grad(loss))(logits), eager_grad, rtol=1e-5, atol=1e-8)
    assert np.all(np.isfinite(eager_grad))
    per_example = jax.vmap(
        lambda y, z: xploss.tversky_loss(y, z, alpha=0.3, beta=0.7, soft_label=True)
    )(onehot, jax.nn.sigmoid(logits))
    batched = xploss.tversky_loss(
        onehot,
        jax.nn.sigmoid(logits),
        axis=(1, 2, 3),
        alpha=0.3,
        beta=0.7,
        soft_label=True,
        reduction="none",
    )
    np.testing.assert_allclose(per_example, batched, rtol=1e-6)
    options = {"smooth_nr": 0.0, "smooth_dr": 0.0}
    per_device = jax.vmap(
        lambda y, z: xploss.jaccard_index(y, z, all_reduce=xj.all_reduce("batch"), **options),
        axis_name="batch",
    )(onehot, jax.nn.sigmoid(logits))
    global_iou = xploss.jaccard_index(onehot, jax.nn.sigmoid(logits), **options)
    np.testing.assert_allclose(per_device, jnp.full((4,), global_iou), rtol=1e-6)


def discs(n, size=32, seed=0):
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images = rng.normal(0, 0.3, (n, size, size, 1)).astype(np.float32)
    masks = np.zeros((n, size, size, 1), dtype=np.float32)
    for i in range(n):
        r, c = rng.integers(8, size - 8, 2)
        disc = (rows - r) ** 2 + (cols - c) ** 2 < rng.integers(4, 8) ** 2
        masks[i, ..., 0][disc] = 1
        images[i, ..., 0][disc] += 1.0
    return jnp.asarray(images), jnp.asarray(masks)


def test_flax_nnx_optax_training_step_reaches_dice_above_0_9():
    nnx = pytest.importorskip("flax.nnx")
    optax = pytest.importorskip("optax")

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.conv1 = nnx.Conv(1, 16, (3, 3), rngs=rngs)
            self.conv2 = nnx.Conv(16, 16, (3, 3), kernel_dilation=2, rngs=rngs)
            self.head = nnx.Conv(16, 1, (1, 1), rngs=rngs)

        def __call__(self, x):
            return self.head(nnx.relu(self.conv2(nnx.relu(self.conv1(x)))))

    model = Net(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    images, masks = discs(96, seed=1)
    test_images, test_masks = discs(32, seed=2)

    @nnx.jit
    def train_step(model, optimizer, images, masks):
        def loss_fn(model):
            return xploss.bce_dice_loss(masks, model(images), axis=(1, 2, 3), from_logits=True)

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    rng = np.random.default_rng(0)
    for _ in range(200):
        rows = rng.integers(0, 96, 16)
        train_step(model, optimizer, images[rows], masks[rows])

    metric = xj.DiceCoefficient(from_logits=True)

    @nnx.jit
    def eval_step(model, metric, images, masks):
        metric.update(logits=model(images), labels=masks)

    eval_step(model, metric, test_images, test_masks)
    assert float(metric.compute()) > 0.9
