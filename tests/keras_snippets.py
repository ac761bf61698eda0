"""The Keras snippets of the README's "From the Keras snippets" table, as they were published,
for ``keras_seed_checks.py``.

Only the names they call are adapted to Keras 3 (see the comments); their bodies are unchanged,
so they keep their style (hence no formatting and no lint here).
"""

# ruff: noqa: E501, E701, E741

from __future__ import annotations

import types

import keras
import numpy as np
from keras import ops
from keras.losses import binary_crossentropy

# Keras 3 has no backend functions (keras.backend.sum, ...). K binds the ones the snippets call
# to their keras.ops equivalents (K.flatten to a reshape, K.floatx to keras.backend.floatx), so
# that the snippets below run as written on every backend.
K = types.SimpleNamespace(
    sum=ops.sum,
    mean=ops.mean,
    log=ops.log,
    round=ops.round,
    flatten=lambda x: ops.reshape(x, (-1,)),
    argmax=ops.argmax,
    equal=ops.equal,
    cast=ops.cast,
    floatx=keras.backend.floatx,
)
# weighted_loss and gen_dice call TensorFlow directly, which takes no JAX or PyTorch tensors: tf
# binds the functions they call to their keras.ops equivalents (on the TensorFlow backend these
# are TensorFlow's own ops).
tf = types.SimpleNamespace(
    cast=ops.cast,
    int64="int64",
    nn=types.SimpleNamespace(softmax=ops.softmax),
    shape=ops.shape,
    reshape=ops.reshape,
    reduce_sum=ops.sum,
    reduce_mean=ops.mean,
    where=ops.where,
    math=types.SimpleNamespace(is_finite=ops.isfinite),
    zeros_like=ops.zeros_like,
)
# weighted_loss uses BCE_loss and dice_coef without defining them: Keras' binary_crossentropy
# and the dice_coef above. Its published copy capitalised zip (Zip) and lost the indentation,
# restored below.
BCE_loss = binary_crossentropy
Zip = zip


# ---- the binary U-Net's loss and metrics ------------------------------------------------------
# fmt: off
def dice_coef(y_true, y_pred, smooth=1):
    intersection = K.sum(y_true * y_pred, axis=[1,2,3])
    union = K.sum(y_true, axis=[1,2,3]) + K.sum(y_pred, axis=[1,2,3])
    return K.mean( (2. * intersection + smooth) / (union + smooth), axis=0)

def bce_dice(y_true, y_pred):
    return binary_crossentropy(y_true, y_pred)-K.log(dice_coef(y_true, y_pred))

def true_positive_rate(y_true, y_pred):
    return K.sum(K.flatten(y_true)*K.flatten(K.round(y_pred)))/K.sum(y_true)


# ---- the class-weighted loss of a five-class U-Net --------------------------------------------
def weighted_loss(weightsList):
    def lossFunc(true, pred):
        axis = -1 #if channels last
        #axis= 1 #if channels first
        classSelectors = K.argmax(true, axis=axis)
        classSelectors = [K.equal(tf.cast(i, tf.int64), tf.cast(classSelectors, tf.int64)) for i in range(len(weightsList))]
        classSelectors = [K.cast(x, K.floatx()) for x in classSelectors]
        weights = [sel * w for sel,w in Zip(classSelectors, weightsList)]
        weightMultiplier = weights[0]
        for i in range(1, len(weights)):
            weightMultiplier = weightMultiplier + weights[i]
        loss = BCE_loss(true, pred) - (1+dice_coef(true, pred))
        loss = loss * weightMultiplier
        return loss
    return lossFunc


# ---- a generalized Dice for 3D volumes, and gen_dice, a fix proposed for it -----------------
def generalized_dice_loss_w(y_true, y_pred):
    # Compute weights: "the contribution of each label is corrected by the inverse of its volume"
    Ncl = y_pred.shape[-1]
    w = np.zeros((Ncl,))
    for l in range(0,Ncl): w[l] = np.sum( np.asarray(y_true[:,:,:,:,l]==1,np.int8) )
    w = 1/(w**2+0.00001)

    # Compute gen dice coef:
    numerator = y_true*y_pred
    numerator = w*K.sum(numerator,(0,1,2,3))
    numerator = K.sum(numerator)

    denominator = y_true+y_pred
    denominator = w*K.sum(denominator,(0,1,2,3))
    denominator = K.sum(denominator)

    gen_dice_coef = numerator/denominator

    return 1-2*gen_dice_coef

def gen_dice(y_true, y_pred, eps=1e-6):
    """both tensors are [b, h, w, classes] and y_pred is in logit form"""

    # [b, h, w, classes]
    pred_tensor = tf.nn.softmax(y_pred)
    y_true_shape = tf.shape(y_true)

    # [b, h*w, classes]
    y_true = tf.reshape(y_true, [-1, y_true_shape[1]*y_true_shape[2], y_true_shape[3]])
    y_pred = tf.reshape(pred_tensor, [-1, y_true_shape[1]*y_true_shape[2], y_true_shape[3]])

    # [b, classes]
    # count how many of each class are present in
    # each image, if there are zero, then assign
    # them a fixed weight of eps
    counts = tf.reduce_sum(y_true, axis=1)
    weights = 1. / (counts ** 2)
    weights = tf.where(tf.math.is_finite(weights), weights, eps)

    multed = tf.reduce_sum(y_true * y_pred, axis=1)
    summed = tf.reduce_sum(y_true + y_pred, axis=1)

    # [b]
    numerators = tf.reduce_sum(weights*multed, axis=-1)
    denom = tf.reduce_sum(weights*summed, axis=-1)
    dices = 1. - 2. * numerators / denom
    dices = tf.where(tf.math.is_finite(dices), dices, tf.zeros_like(dices))
    return tf.reduce_mean(dices)
# fmt: on
