"""Float32 arithmetic that reproduces the C++ calculators' rounding under XLA.

Two XLA habits change float32 results by one unit in the last place (ulp):

- on CPU (and more so on GPU) a product that feeds an addition in the same fused kernel is
  contracted into one fused multiply-add, which skips the product's rounding;
- a division by a broadcast constant becomes a multiplication by its reciprocal.

Usually one ulp does not matter, but OpenCV quantizes warp sample positions to 1/32 px, and a corner
point one ulp off moves a few samples to the neighbouring 1/32 step. The helpers here make the
rounding explicit instead:

- products are split into 12-bit halves (by masking bits, not by arithmetic), so every partial
  product is exact and contraction cannot change it (:func:`two_prod`, :func:`mul_rn`);
- values that C++ computes in double are carried as unevaluated sums ``hi + lo`` of two float32
  ("double-float", about 48 significant bits), which is enough to round them to float32, or to an
  integer, exactly as double arithmetic does except within about 2**-44 of a tie.

Everything is elementwise, jittable and vmappable; pairs are ``(hi, lo)`` tuples of arrays.
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax.numpy as jnp
import numpy as np
from jax import lax

F32 = jnp.float32
# Keeps the sign, the exponent and the 11 high mantissa bits: a 12-bit significand whose products
# with another 12-bit significand are exact in float32.
_HIGH_BITS_MASK = np.uint32(0xFFFFF000)


def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def fast_two_sum(a, b):
    """Like :func:`two_sum` for ``|a| >= |b|`` (or ``a == 0``): renormalizes a pair."""
    s = a + b
    return s, b - (s - a)


def split(a):
    """``(hi, lo)`` with ``hi + lo == a``, both with at most 12 significant bits."""
    a = jnp.asarray(a, F32)
    hi = lax.bitcast_convert_type(
        lax.bitcast_convert_type(a, jnp.uint32) & _HIGH_BITS_MASK, F32)
    return hi, a - hi


def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a * b)`` and ``p + e == a * b`` (up to 2**-48 relative).

    Built from exact partial products, so it is immune to multiply-add contraction.
    """
    ah, al = split(a)
    bh, bl = split(b)
    s1, e1 = two_sum(ah * bl, al * bh)
    s2, e2 = two_sum(ah * bh, s1)
    return fast_two_sum(s2, e2 + (e1 + al * bl))


def mul_rn(a, b):
    """``fl(a * b)``: the float32 product rounded once, as C++ computes it."""
    return two_prod(a, b)[0]


def div_rn(a, b):
    """``fl(a / b)`` even when XLA would multiply by the reciprocal of a constant ``b``."""
    a = jnp.asarray(a, F32)
    b = jnp.asarray(b, F32)
    q = a / b
    p, e = two_prod(q, b)
    r = (a - p) - e
    return q + r / b


# -- double-float pairs ---------------------------------------------------------------------------
def ff(value):
    """A Python number (float, int or Fraction) as a constant pair ``(hi, lo)``."""
    value = Fraction(value)
    hi = np.float32(float(value))
    lo = np.float32(float(value - Fraction(float(hi))))
    return F32(hi), F32(lo)


def ff_from(a):
    """A float32 array as a pair."""
    a = jnp.asarray(a, F32)
    return a, jnp.zeros_like(a)


def ff_add(x, y):
    """Sum of two pairs."""
    s, e = two_sum(x[0], y[0])
    t, f = two_sum(x[1], y[1])
    s, e = fast_two_sum(s, e + t)
    return fast_two_sum(s, e + f)


def ff_neg(x):
    return -x[0], -x[1]


def ff_sub(x, y):
    return ff_add(x, ff_neg(y))


def ff_mul(x, y):
    """Product of two pairs."""
    p, e = two_prod(x[0], y[0])
    return fast_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))


def ff_div(x, y):
    """Quotient of two pairs."""
    q1 = x[0] / y[0]
    r = ff_sub(x, ff_mul(ff_from(q1), y))
    q2 = r[0] / y[0]
    r = ff_sub(r, ff_mul(ff_from(q2), y))
    return ff_add(fast_two_sum(q1, q2), ff_from(r[0] / y[0]))


def ff_to_f32(x):
    """The pair rounded to the nearest float32 (pairs are kept normalized, so this is ``hi``)."""
    return x[0]


def ff_round_half_even(x):
    """The pair rounded to the nearest integer, ties to even, as a float32 integer value.

    Matches ``cvRound``/``saturate_cast<int>`` of the double the pair stands for.
    """
    hi, lo = x
    r = jnp.round(hi)
    d = (hi - r) + lo
    return r + jnp.where(d > 0.5, F32(1), F32(0)) - jnp.where(d < -0.5, F32(1), F32(0))


def ff_floor(x):
    """Floor of a pair, as a float32 integer value."""
    hi, lo = x
    f = jnp.floor(hi)
    return jnp.where((hi == f) & (lo < 0), f - 1, f)


# -- sine and cosine ------------------------------------------------------------------------------
# pi/2 in three parts for Cody-Waite reduction: the first two have 12 significant bits, so k*part
# is exact for the quadrant counts |k| < 2**12 that rotations in radians or degrees produce.
def _three_parts(value: Fraction):
    parts = []
    rest = value
    for _ in range(2):
        hi = np.float32(float(rest))
        hi = np.frombuffer((np.array(hi).view(np.uint32) & _HIGH_BITS_MASK).tobytes(),
                           np.float32)[0]
        parts.append(F32(hi))
        rest = rest - Fraction(float(hi))
    parts.append(F32(float(rest)))
    return parts


# 60 decimals of pi: more than the 48 bits a pair holds.
_PI = Fraction("3.141592653589793238462643383279502884197169399375105820974944")
_HALF_PI_PARTS = _three_parts(_PI / 2)
_TWO_OVER_PI = F32(float(2 / _PI))
PI = ff(_PI)
TWO_PI = ff(2 * _PI)
HALF_PI = ff(_PI / 2)
INV_PI = ff(1 / _PI)
PI_OVER_180 = ff(_PI / 180)
_SIN_COEFS = [ff(Fraction((-1) ** k, math.factorial(2 * k + 1))) for k in range(9)]
_COS_COEFS = [ff(Fraction((-1) ** k, math.factorial(2 * k))) for k in range(10)]


def _poly(coefs, u):
    acc = ff_from(jnp.broadcast_to(coefs[-1][0], u[0].shape))
    acc = (acc[0], jnp.broadcast_to(coefs[-1][1], u[0].shape))
    for c in coefs[-2::-1]:
        acc = ff_add(ff_mul(u, acc), c)
    return acc


def ff_sincos(theta):
    """``(sin, cos)`` of an angle given as a pair, each as a pair (about 2**-46 relative).

    Enough to round ``sin`` and ``cos`` of a double angle to float32 as ``(float)std::cos(double)``
    does, and to get correctly rounded float32 ``std::sin``/``std::cos`` of a float angle.
    """
    k = jnp.round(theta[0] * _TWO_OVER_PI)
    t = theta
    for part in _HALF_PI_PARTS:
        t = ff_add(t, ff_from(-k * part))
    u = ff_mul(t, t)
    sin_t = ff_mul(t, _poly(_SIN_COEFS, u))
    cos_t = _poly(_COS_COEFS, u)
    quadrant = jnp.mod(k, 4).astype(jnp.int32)
    sin = _select4(quadrant, sin_t, cos_t, ff_neg(sin_t), ff_neg(cos_t))
    cos = _select4(quadrant, cos_t, ff_neg(sin_t), ff_neg(cos_t), sin_t)
    return sin, cos


def _select4(index, a, b, c, d):
    return tuple(jnp.select([index == 0, index == 1, index == 2], [a[i], b[i], c[i]], d[i])
                 for i in range(2))


def sincos_f32(angle):
    """Correctly rounded float32 ``(std::sin(angle), std::cos(angle))`` of float32 angles."""
    sin, cos = ff_sincos(ff_from(angle))
    return ff_to_f32(sin), ff_to_f32(cos)
