"""The reference cases of docs/formulas.md §10 (C1–C13, G1–G3, V1–V2), every backend, float64.

Expected values are the exact fractions or closed forms of the reference where it gives them, and
its printed decimals otherwise.
"""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest

import xploss

LN06 = -math.log(0.6)  # C1's mean BCE: 0.9·0.8·0.6·0.3 = 0.6⁴
FLOOR_PENALTY = 126 * math.log(2)  # -log(2**-126), the documented floor of -log(Dice)

C1_TRUE = [[1, 0], [1, 1]]
C1_PRED = [[0.9, 0.2], [0.6, 0.3]]
C5_TRUE = [[[1, 0], [1, 1]], [[0, 0], [0, 1]]]
C5_PRED = [[[0.9, 0.2], [0.6, 0.3]], [[0.1, 0.4], [0.2, 0.7]]]
C6_TRUE = np.moveaxis(np.array(C5_TRUE), 0, -1)
C6_PRED = np.moveaxis(np.array(C5_PRED), 0, -1)
EMPTY = [[0, 0], [0, 0]]
C8_PRED = [[0.4, 0.0], [0.0, 0.0]]
C9_TRUE = [[1, 0], [0, 0]]
C11_LOGITS = [[2.0, -1.0], [0.0, -3.0]]
C12_LOGITS = [[100.0, -100.0], [-100.0, 100.0]]
C12_TRUE = [[1, 0], [1, 0]]
G1_LABELS = [[[0, 1], [2, 0]]]
G1_PRED = [[[[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]], [[0.2, 0.2, 0.6], [0.5, 0.3, 0.2]]]]
G2_LABELS = [[[0, 0], [0, 1]]]
G2_PRED = [[[[0.8, 0.1, 0.1], [0.6, 0.3, 0.1]], [[0.7, 0.1, 0.2], [0.2, 0.7, 0.1]]]]
G3_TRUE = np.zeros((1, 2, 2, 1))
G3_PRED = np.array([[0.2, 0.1], [0.0, 0.0]]).reshape(1, 2, 2, 1)
V1_TRUE = [
    [[[[1], [1]], [[0], [0]]], [[[1], [0]], [[0], [0]]]],
    [[[[0], [0]], [[0], [0]]], [[[0], [0]], [[0], [1]]]],
]
V1_PRED = [
    [[[[0.9], [0.8]], [[0.1], [0.2]]], [[[0.4], [0.3]], [[0.05], [0.1]]]],
    [[[[0.2], [0.1]], [[0.1], [0.3]]], [[[0.1], [0.2]], [[0.4], [0.6]]]],
]
V2_TRUE = np.concatenate([1 - np.array(V1_TRUE), np.array(V1_TRUE)], axis=-1)
V2_PRED = np.concatenate([1 - np.array(V1_PRED), np.array(V1_PRED)], axis=-1)
V_AXES = (1, 2, 3)
S0 = {"smooth_nr": 0, "smooth_dr": 0}
S1 = {"smooth_nr": 1, "smooth_dr": 1}
NONE = {"reduction": "none"}
NAN = float("nan")


def softplus(z: float) -> float:
    return math.log1p(math.exp(-abs(z))) + max(z, 0.0)


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


C9_BCE = (-math.log(1e-7) - 3 * math.log(1 - 1e-7)) / 4
C11_BCE = [softplus(-2), softplus(-1), math.log(2), softplus(3)]
C11_DICE = 2 * (sigmoid(2) + 0.5 + sigmoid(-3)) / (3 + sigmoid(2) + sigmoid(-1) + 0.5 + sigmoid(-3))

dice = xploss.dice_coefficient
loss = xploss.dice_loss
bce = xploss.binary_cross_entropy
bce_dice = xploss.bce_dice_loss
tpr = xploss.true_positive_rate
gdl = xploss.generalized_dice_loss
iou = xploss.jaccard_index
iou_loss = xploss.jaccard_loss
tversky = xploss.tversky_loss
focal = xploss.focal_tversky_loss
ppv = xploss.precision

# C1 by hand: tp = 1.8, FP = Σp - tp = 0.2, FN = Σy - tp = 1.2, union = 3 + 2 - 1.8 = 3.2.
# C5 image 2: tp = 0.7, FP = 0.7, FN = 0.3; Tversky(0.3, 0.7) = 0.7 / 1.12 = 5/8.
TV37 = {"alpha": 0.3, "beta": 0.7}
C5_FOCAL = [F(1, 3) ** 0.75, F(3, 8) ** 0.75]
# Soft labels: y = [0.5, 1], p = [0.3, 0.8]: Σ min(y, p) = 1.1, Σ y·p = 0.95, Σy = 1.5, Σp = 1.1.
SOFT_TRUE = [[0.5, 1.0]]
SOFT_PRED = [[0.3, 0.8]]
SOFT = {"soft_label": True}

CASES = [
    # C1: y_true=[[1,0],[1,1]], y_pred=[[0.9,0.2],[0.6,0.3]], axis=None
    ("C1-dice", dice, C1_TRUE, C1_PRED, S0, F(18, 25)),
    ("C1-dice-loss", loss, C1_TRUE, C1_PRED, S0, F(7, 25)),
    ("C1-dice-1e-5", dice, C1_TRUE, C1_PRED, {}, 0.720000559999),
    ("C1-bce", bce, C1_TRUE, C1_PRED, {}, LN06),
    ("C1-bce-dice", bce_dice, C1_TRUE, C1_PRED, S0, -math.log(0.432)),
    ("C1-bce-dice-additive", bce_dice, C1_TRUE, C1_PRED, {**S0, "log_dice": False}, LN06 + 0.28),
    ("C1-dice-squared", dice, C1_TRUE, C1_PRED, {**S0, "squared": True}, F(36, 43)),
    ("C1-tpr", tpr, C1_TRUE, C1_PRED, {}, F(2, 3)),
    # C2: smoothing 1; C3: denominator-only smoothing
    ("C2-dice", dice, C1_TRUE, C1_PRED, S1, F(23, 30)),
    ("C2-dice-loss", loss, C1_TRUE, C1_PRED, S1, F(7, 30)),
    ("C2-bce-dice", bce_dice, C1_TRUE, C1_PRED, S1, LN06 - math.log(23 / 30)),
    ("C2-dice-squared", dice, C1_TRUE, C1_PRED, {**S1, "squared": True}, F(46, 53)),
    ("C3-dice", dice, C1_TRUE, C1_PRED, {"smooth_nr": 0}, F(120000, 166667)),
    ("C3-dice-loss", loss, C1_TRUE, C1_PRED, {"smooth_nr": 0}, F(46667, 166667)),
    ("C3-bce-dice", bce_dice, C1_TRUE, C1_PRED, {"smooth_nr": 0}, LN06 - math.log(120000 / 166667)),
    # C5: batch of 2; per-image vs batch Dice
    ("C5-per-image", dice, C5_TRUE, C5_PRED, {**S0, **NONE, "axis": (1, 2)}, [F(18, 25), F(7, 12)]),
    ("C5-per-image-mean", dice, C5_TRUE, C5_PRED, {**S0, "axis": (1, 2)}, F(391, 600)),
    ("C5-per-image-loss", loss, C5_TRUE, C5_PRED, {**S0, "axis": (1, 2)}, F(209, 600)),
    ("C5-batch", dice, C5_TRUE, C5_PRED, {**S0, "axis": (0, 1, 2)}, F(25, 37)),
    ("C5-batch-none", dice, C5_TRUE, C5_PRED, S0, F(25, 37)),
    ("C5-batch-loss", loss, C5_TRUE, C5_PRED, S0, F(12, 37)),
    ("C5-bce", bce, C5_TRUE, C5_PRED, {}, 0.404913391218),
    ("C5-bce-dice", bce_dice, C5_TRUE, C5_PRED, {**S0, "axis": (1, 2)}, 0.833135486448),
    ("C5-bce-dice-batch", bce_dice, C5_TRUE, C5_PRED, S0, 0.796955478994),
    ("C5-tpr-per-image", tpr, C5_TRUE, C5_PRED, {**NONE, "axis": (1, 2)}, [F(2, 3), 1]),
    ("C5-tpr-mean", tpr, C5_TRUE, C5_PRED, {"axis": (1, 2)}, F(5, 6)),
    ("C5-tpr-pooled", tpr, C5_TRUE, C5_PRED, {}, F(3, 4)),
    # C6: the same data with the batch axis last
    ("C6-dice", dice, C6_TRUE, C6_PRED, {**S0, **NONE, "axis": (0, 1)}, [F(18, 25), F(7, 12)]),
    (
        "C6-dice-neg",
        dice,
        C6_TRUE,
        C6_PRED,
        {**S0, **NONE, "axis": (-3, -2)},
        [F(18, 25), F(7, 12)],
    ),
    ("C6-tpr", tpr, C6_TRUE, C6_PRED, {**NONE, "axis": (0, 1)}, [F(2, 3), 1]),
    # C7: both empty
    ("C7-dice-0/0", dice, EMPTY, EMPTY, {**S0, "zero_division": NAN}, NAN),
    ("C7-dice-0/0-default", dice, EMPTY, EMPTY, S0, 1),
    ("C7-dice-s1", dice, EMPTY, EMPTY, S1, 1),
    ("C7-dice-1e-5", dice, EMPTY, EMPTY, {}, 1),
    ("C7-dice-dr-only", dice, EMPTY, EMPTY, {"smooth_nr": 0}, 0),
    ("C7-dice-loss-s1", loss, EMPTY, EMPTY, S1, 0),
    ("C7-bce", bce, EMPTY, EMPTY, {}, 1.0000000500000033e-07),
    ("C7-bce-dice-s1", bce_dice, EMPTY, EMPTY, S1, 1.0000000500000033e-07),
    ("C7-tpr-nan", tpr, EMPTY, EMPTY, {"zero_division": NAN}, NAN),
    ("C7-tpr-default", tpr, EMPTY, EMPTY, {}, 0),
    # C8: empty reference, false positive
    ("C8-dice-s0", dice, EMPTY, C8_PRED, S0, 0),
    ("C8-dice-s1", dice, EMPTY, C8_PRED, S1, F(5, 7)),
    ("C8-dice-dr-only", dice, EMPTY, C8_PRED, {"smooth_nr": 0, "smooth_dr": 1}, 0),
    ("C8-bce", bce, EMPTY, C8_PRED, {}, 0.127706480942),
    ("C8-bce-dice-s1", bce_dice, EMPTY, C8_PRED, S1, 0.464178717563),
    ("C8-bce-dice-s0-floor", bce_dice, EMPTY, C8_PRED, S0, 0.127706480942 + FLOOR_PENALTY),
    ("C8-tpr", tpr, EMPTY, C8_PRED, {"zero_division": NAN}, NAN),
    # C9: missed object
    ("C9-dice-s0", dice, C9_TRUE, EMPTY, S0, 0),
    ("C9-dice-s1", dice, C9_TRUE, EMPTY, S1, F(1, 2)),
    ("C9-bce", bce, C9_TRUE, EMPTY, {}, C9_BCE),
    ("C9-bce-dice-s1", bce_dice, C9_TRUE, EMPTY, S1, C9_BCE + math.log(2)),
    ("C9-tpr", tpr, C9_TRUE, EMPTY, {}, 0),
    # C10: threshold ties, strict p > 0.5
    ("C10-tpr", tpr, [1, 1, 0, 1], [0.5, 0.51, 0.5, 0.49], {"axis": 0}, F(1, 3)),
    ("C10-dice", dice, [1, 1, 0, 1], [0.5, 0.51, 0.5, 0.49], {**S0, "axis": 0}, F(3, 5)),
    # C11: logits
    (
        "C11-bce-elementwise",
        bce,
        C1_TRUE,
        C11_LOGITS,
        {**NONE, "axis": (), "from_logits": True},
        [C11_BCE[:2], C11_BCE[2:]],
    ),
    ("C11-bce", bce, C1_TRUE, C11_LOGITS, {"from_logits": True}, sum(C11_BCE) / 4),
    ("C11-dice", dice, C1_TRUE, C11_LOGITS, {**S0, "from_logits": True}, C11_DICE),
    (
        "C11-bce-dice",
        bce_dice,
        C1_TRUE,
        C11_LOGITS,
        {**S0, "from_logits": True},
        sum(C11_BCE) / 4 - math.log(C11_DICE),
    ),
    ("C11-tpr", tpr, C1_TRUE, C11_LOGITS, {"from_logits": True}, F(1, 3)),
    # C12: saturated logits
    (
        "C12-bce-logits",
        bce,
        C12_TRUE,
        C12_LOGITS,
        {"from_logits": True},
        (2 * softplus(-100) + softplus(100) + 100) / 4,
    ),
    ("C12-dice", dice, C12_TRUE, C12_LOGITS, {**S0, "from_logits": "sigmoid"}, 0.5),
    (
        "C12-bce-clipped",
        bce,
        C12_TRUE,
        [[1.0, 1 / (1 + math.exp(100))], [1 / (1 + math.exp(100)), 1.0]],
        {},
        8.05904787561,
    ),
    # C13: soft labels
    ("C13-dice", dice, [[0.5, 1.0]], [[0.5, 1.0]], S0, F(5, 6)),
    ("C13-dice-squared", dice, [[0.5, 1.0]], [[0.5, 1.0]], {**S0, "squared": True}, 1),
    # G1: generalized Dice, sparse labels, (1, 2, 2, 3) channels-last
    ("G1-square", gdl, G1_LABELS, G1_PRED, {**S0, "axis": (1, 2)}, F(79, 215)),
    ("G1-simple", gdl, G1_LABELS, G1_PRED, {**S0, "weight_type": "simple"}, F(9, 25)),
    ("G1-uniform", gdl, G1_LABELS, G1_PRED, {**S0, "weight_type": "uniform"}, F(7, 20)),
    ("G1-monai-smoothing", gdl, G1_LABELS, G1_PRED, {}, 1 - 0.632558823146),
    (
        "G1-per-class-dice",
        dice,
        G1_LABELS,
        G1_PRED,
        {**S0, **NONE, "axis": (0, 1, 2)},
        [F(24, 35), F(16, 25), F(3, 5)],
    ),
    ("G1-mean-class-dice", dice, G1_LABELS, G1_PRED, {**S0, "axis": (0, 1, 2)}, F(337, 525)),
    ("G1-pooled-dice", dice, G1_LABELS, G1_PRED, S0, F(13, 20)),
    # G2: absent class 2 gets the largest finite weight
    ("G2-square", gdl, G2_LABELS, G2_PRED, S0, F(16, 37)),
    ("G2-monai-smoothing", gdl, G2_LABELS, G2_PRED, {}, 1 - 0.567568882392),
    # G3: every class absent: weights 1, so the false positives still count
    ("G3-fp-s0", gdl, G3_TRUE, G3_PRED, S0, 1),
    ("G3-fp-default", gdl, G3_TRUE, G3_PRED, {}, 1 - F(1, 10**5) / (F(3, 10) + F(1, 10**5))),
    ("G3-empty-s0", gdl, G3_TRUE, G3_TRUE, S0, 0),
    ("G3-empty-default", gdl, G3_TRUE, G3_TRUE, {}, 0),
    # V1: rank 5, (B, D, H, W, C) = (2, 2, 2, 2, 1)
    ("V1-dice", dice, V1_TRUE, V1_PRED, {**S0, **NONE, "axis": V_AXES}, [[F(28, 39)], [F(2, 5)]]),
    ("V1-dice-mean", dice, V1_TRUE, V1_PRED, {**S0, "axis": V_AXES}, F(109, 195)),
    ("V1-dice-loss", loss, V1_TRUE, V1_PRED, {**S0, "axis": V_AXES}, F(86, 195)),
    (
        "V1-dice-s1",
        dice,
        V1_TRUE,
        V1_PRED,
        {**S1, **NONE, "axis": V_AXES},
        [[F(104, 137)], [F(11, 20)]],
    ),
    ("V1-dice-s1-mean", dice, V1_TRUE, V1_PRED, {**S1, "axis": V_AXES}, F(3587, 5480)),
    ("V1-dice-loss-s1", loss, V1_TRUE, V1_PRED, {**S1, "axis": V_AXES}, F(1893, 5480)),
    ("V1-bce", bce, V1_TRUE, V1_PRED, {}, 0.264207653805),
    ("V1-bce-dice-s1", bce_dice, V1_TRUE, V1_PRED, {**S1, "axis": V_AXES}, 0.687996556214),
    ("V1-tpr", tpr, V1_TRUE, V1_PRED, {**NONE, "axis": V_AXES}, [[F(2, 3)], [1]]),
    ("V1-tpr-mean", tpr, V1_TRUE, V1_PRED, {"axis": V_AXES}, F(5, 6)),
    ("V1-batch-dice", dice, V1_TRUE, V1_PRED, {**S0, "axis": (0, 1, 2, 3)}, F(36, 59)),
    # V2: GD on V1 as a two-class one-hot
    ("V2-gd", gdl, V2_TRUE, V2_PRED, {**S0, **NONE, "axis": V_AXES}, [1 - F(55, 72), 1 - F(7, 16)]),
    ("V2-gdl", gdl, V2_TRUE, V2_PRED, {**S0, "axis": V_AXES}, F(115, 288)),
    # Jaccard (IoU): tp / union
    ("C1-jaccard", iou, C1_TRUE, C1_PRED, S0, F(9, 16)),
    ("C1-jaccard-loss", iou_loss, C1_TRUE, C1_PRED, S0, F(7, 16)),
    ("C1-jaccard-log-loss", iou_loss, C1_TRUE, C1_PRED, {**S0, "log": True}, -math.log(9 / 16)),
    ("C1-jaccard-squared", iou, C1_TRUE, C1_PRED, {**S0, "squared": True}, F(18, 25)),
    ("C1-jaccard-hard", iou, C1_TRUE, C1_PRED, {**S0, "threshold": 0.5}, F(2, 3)),
    ("C2-jaccard", iou, C1_TRUE, C1_PRED, S1, F(2, 3)),
    ("C5-jaccard", iou, C5_TRUE, C5_PRED, {**S0, **NONE, "axis": (1, 2)}, [F(9, 16), F(7, 17)]),
    ("C5-jaccard-batch", iou, C5_TRUE, C5_PRED, S0, F(25, 49)),
    ("C7-jaccard-0/0", iou, EMPTY, EMPTY, {**S0, "zero_division": NAN}, NAN),
    ("C7-jaccard-loss-0/0", iou_loss, EMPTY, EMPTY, S0, 0),
    ("C8-jaccard-s1", iou, EMPTY, C8_PRED, S1, F(5, 7)),
    (
        "G1-jaccard",
        iou,
        G1_LABELS,
        G1_PRED,
        {**S0, **NONE, "axis": (0, 1, 2)},
        [F(12, 23), F(8, 17), F(3, 7)],
    ),
    ("V1-jaccard", iou, V1_TRUE, V1_PRED, {**S0, **NONE, "axis": V_AXES}, [[F(14, 25)], [F(1, 4)]]),
    # Tversky: alpha on FP, beta on FN
    ("C1-tversky", tversky, C1_TRUE, C1_PRED, {**S0, **TV37}, F(1, 3)),
    ("C1-tversky-swapped", tversky, C1_TRUE, C1_PRED, {**S0, "alpha": 0.7, "beta": 0.3}, F(5, 23)),
    ("C1-tversky-dice", tversky, C1_TRUE, C1_PRED, S0, F(7, 25)),
    ("C1-tversky-jaccard", tversky, C1_TRUE, C1_PRED, {**S0, "alpha": 1, "beta": 1}, F(7, 16)),
    ("C1-tversky-recall", tversky, C1_TRUE, C1_PRED, {**S0, "alpha": 0, "beta": 1}, F(2, 5)),
    ("C2-tversky", tversky, C1_TRUE, C1_PRED, {**S1, **TV37}, 1 - F(28, 37)),
    (
        "C5-tversky",
        tversky,
        C5_TRUE,
        C5_PRED,
        {**S0, **NONE, **TV37, "axis": (1, 2)},
        [F(1, 3), F(3, 8)],
    ),
    ("C7-tversky-0/0", tversky, EMPTY, EMPTY, S0, 0),
    ("C9-tversky-s1", tversky, C9_TRUE, EMPTY, {**S1, **TV37}, 1 - F(10, 17)),
    # focal Tversky (1 - S)^gamma; the defaults are Abraham and Khan's code: 0.3, 0.7, 0.75
    ("C1-focal-tversky", focal, C1_TRUE, C1_PRED, S0, 0.438691337651),
    ("C1-focal-tversky-gamma-2", focal, C1_TRUE, C1_PRED, {**S0, "gamma": 2}, F(1, 9)),
    ("C1-focal-tversky-gamma-1", focal, C1_TRUE, C1_PRED, {**S0, "gamma": 1}, F(1, 3)),
    ("C5-focal-tversky", focal, C5_TRUE, C5_PRED, {**S0, **NONE, "axis": (1, 2)}, C5_FOCAL),
    ("C5-focal-tversky-mean", focal, C5_TRUE, C5_PRED, {**S0, "axis": (1, 2)}, sum(C5_FOCAL) / 2),
    ("C7-focal-tversky-perfect", focal, EMPTY, EMPTY, {}, 0),
    # precision: tp / predicted volume, strict p > threshold
    ("C1-precision", ppv, C1_TRUE, C1_PRED, {}, 1),
    ("C1-precision-0.15", ppv, C1_TRUE, C1_PRED, {"threshold": 0.15}, F(3, 4)),
    ("C1-precision-soft", ppv, C1_TRUE, C1_PRED, {"threshold": None}, F(9, 10)),
    (
        "C5-precision-soft",
        ppv,
        C5_TRUE,
        C5_PRED,
        {**NONE, "threshold": None, "axis": (1, 2)},
        [F(9, 10), F(1, 2)],
    ),
    ("C5-precision-pooled-soft", ppv, C5_TRUE, C5_PRED, {"threshold": None}, F(25, 34)),
    ("C8-precision-nothing-predicted", ppv, EMPTY, C8_PRED, {"zero_division": NAN}, NAN),
    ("C8-precision-default", ppv, EMPTY, C8_PRED, {}, 0),
    ("C8-precision-fp", ppv, EMPTY, C8_PRED, {"threshold": 0.3}, 0),
    ("C10-precision", ppv, [1, 1, 0, 1], [0.5, 0.51, 0.5, 0.49], {"axis": 0}, 1),
    # C13 and soft labels: the intersection Σ min(y, p) is exact (Wang et al. 2023)
    ("C13-dice-soft-label", dice, [[0.5, 1.0]], [[0.5, 1.0]], {**S0, **SOFT}, 1),
    (
        "C13-dice-soft-label-squared",
        dice,
        [[0.5, 1.0]],
        [[0.5, 1.0]],
        {**S0, **SOFT, "squared": True},
        1,
    ),
    ("C13-jaccard", iou, [[0.5, 1.0]], [[0.5, 1.0]], S0, F(5, 7)),
    ("C13-jaccard-soft-label", iou, [[0.5, 1.0]], [[0.5, 1.0]], {**S0, **SOFT}, 1),
    ("C13-jaccard-loss-soft-label", iou_loss, [[0.5, 1.0]], [[0.5, 1.0]], {**SOFT}, 0),
    ("C13-tversky-soft-label", tversky, [[0.5, 1.0]], [[0.5, 1.0]], {**S0, **SOFT, **TV37}, 0),
    ("soft-dice", dice, SOFT_TRUE, SOFT_PRED, S0, F(19, 26)),
    ("soft-dice-soft-label", dice, SOFT_TRUE, SOFT_PRED, {**S0, **SOFT}, F(11, 13)),
    ("soft-jaccard-soft-label", iou, SOFT_TRUE, SOFT_PRED, {**S0, **SOFT}, F(11, 15)),
    (
        "soft-tversky-soft-label",
        tversky,
        SOFT_TRUE,
        SOFT_PRED,
        {**S0, **SOFT, **TV37},
        1 - F(55, 69),  # tp = 1.1, FP = 0, FN = 0.4
    ),
    ("C1-dice-soft-label-hard-target", dice, C1_TRUE, C1_PRED, {**S0, **SOFT}, F(18, 25)),
    (
        "C5-jaccard-soft-label-hard-target",
        iou,
        C5_TRUE,
        C5_PRED,
        {**S0, **NONE, **SOFT, "axis": (1, 2)},
        [F(9, 16), F(7, 17)],
    ),
]


def _as_input(values, *, prediction: bool) -> np.ndarray:
    array = np.asarray(values)
    if prediction or array.dtype.kind == "f":
        return array.astype(np.float64)
    return array.astype(np.int64)


def _expected(value) -> np.ndarray:
    return np.vectorize(float)(np.asarray(value, dtype=object)).astype(np.float64)


@pytest.mark.parametrize(
    ("fn", "y_true", "y_pred", "options", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_reference_value(backend, fn, y_true, y_pred, options, expected):
    y_true = backend.asarray(_as_input(y_true, prediction=False))
    y_pred = backend.asarray(_as_input(y_pred, prediction=True))
    result = backend.call(fn, y_true, y_pred, **options)
    got = backend.to_numpy(result)
    want = _expected(expected)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_float32_bce_clip_matches_keras(eager_backend):
    """C9 and C12: Keras 3's float32 clip makes (y=0, p=1) cost 15.94, not 16.12."""
    y = eager_backend.asarray(np.array([1, 0, 1, 0], dtype=np.float32))
    p = eager_backend.asarray(np.array([0, 0, 0, 1], dtype=np.float32))
    got = eager_backend.to_numpy(bce(y, p, axis=(), reduction="none"))
    np.testing.assert_allclose(
        got, [16.1180953979, 1.1920930376163597e-07, 16.1180953979, 15.9423847198], rtol=1e-6
    )
