"""The rules of every stateful metric's state, whatever the framework that holds it.

- The state is additive: a batch adds its statistics, an empty batch adds nothing.
- Its class count is fixed once known (``num_classes`` in Keras and Flax, the first batch in
  PyTorch): a batch with another count raises ``check_class_count``'s error instead of
  broadcasting into the sums.
- Before any update the value is the score of empty statistics: what a class with no pixel
  scores, ``zero_division`` unless smoothed (``smooth_nr / smooth_dr`` then). PyTorch warns;
  Keras and Flax, whose ``result``/``compute`` run traced, return it silently.
"""

from __future__ import annotations

from xploss._checks import Shape, normalize_class_axis


def check_class_count(
    owner: str, state: Shape, name: str, shape: Shape, class_axis: int, remedy: str
) -> int:
    """``class_axis`` of ``shape``, normalised; a ``ValueError`` naming both shapes unless the
    batch ``name`` of ``shape`` has the ``state[-1]`` classes of the state there."""
    axis = normalize_class_axis(class_axis, shape)
    classes, got = state[-1], shape[axis]
    if got is not None and got != classes:
        raise ValueError(
            f"{owner} got {name} of shape {shape}, with {got} classes on "
            f"class_axis={class_axis}, but its state of shape {state} holds {classes} "
            f"classes: the number of classes cannot change between updates; {remedy}."
        )
    return axis


def per_class_axes(
    name: str, num_classes: int, label: str, shape: Shape, class_axis: int
) -> tuple[int, ...]:
    """The axes of ``shape`` but ``class_axis``, which the sums of a metric ``name`` built with
    ``num_classes`` run over (Keras, Flax); ``check_class_count``'s error if the batch ``label``
    has another number of classes."""
    owner, remedy = f"{name}(num_classes={num_classes})", "build a metric with that num_classes"
    kept = check_class_count(owner, (num_classes,), label, shape, class_axis, remedy)
    return tuple(a for a in range(len(shape)) if a != kept)
