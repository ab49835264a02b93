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

A third habit: XLA's algebraic simplifier rewrites ``(C + x) - C`` to ``x`` for a constant ``C``,
which erases the error term of :func:`two_sum` when its *first* operand is a constant. Constants
therefore always go second (``two_sum(x, C)``, ``ff_add(x, C)``); the tests check the results
bit for bit, so a new XLA habit would show.

Everything is elementwise, jittable and vmappable; pairs are ``(hi, lo)`` tuples of arrays.
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax
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


def fma_rn(a, b, c):
    """``fma(a, b, c)``: ``a * b + c`` rounded once (exact for products of <= 48 bits)."""
    return ff_add(two_prod(a, b), ff_from(jnp.broadcast_to(jnp.asarray(c, F32),
                                                         jnp.shape(a))))[0]


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
    # x goes second: it is often a constant (see the module notes on operand order).
    r = ff_add(ff_neg(ff_mul(ff_from(q1), y)), x)
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
# Taylor coefficients. The leading terms are summed as pairs; from t**7 (sin) and t**8 (cos) on,
# the terms are below 4e-5 for |t| <= pi/4, so float32 (relative error 6e-8) is precise enough
# and keeps the graph small.
_SIN_COEFS = [ff(Fraction((-1) ** k, math.factorial(2 * k + 1))) for k in range(3)]
_SIN_TAIL = [np.float32(Fraction((-1) ** k, math.factorial(2 * k + 1))) for k in range(3, 9)]
_COS_COEFS = [ff(Fraction((-1) ** k, math.factorial(2 * k))) for k in range(4)]
_COS_TAIL = [np.float32(Fraction((-1) ** k, math.factorial(2 * k))) for k in range(4, 10)]


def _poly(coefs, tail, u):
    """``sum_k c_k u**k`` with the tail in float32 and the leading coefficients as pairs."""
    small = jnp.full_like(u[0], tail[-1])
    for c in tail[-2::-1]:
        small = small * u[0] + c
    acc = (small, jnp.zeros_like(small))
    for c in coefs[::-1]:
        acc = ff_add(ff_mul(u, acc), c)
    return acc


def ff_sincos(theta):
    """``(sin, cos)`` of an angle given as a pair, each as a pair (about 2**-44 relative).

    Enough to round ``sin`` and ``cos`` of a double angle to float32 as ``(float)std::cos(double)``
    does, and to get correctly rounded float32 ``std::sin``/``std::cos`` of a float angle.
    """
    k = jnp.round(theta[0] * _TWO_OVER_PI)
    t = theta
    for part in _HALF_PI_PARTS:
        t = ff_add(t, ff_from(-k * part))
    u = ff_mul(t, t)
    sin_t = ff_mul(t, _poly(_SIN_COEFS, _SIN_TAIL, u))
    cos_t = _poly(_COS_COEFS, _COS_TAIL, u)
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


# -- glibc's float atan2 ---------------------------------------------------------------------------
# MediaPipe calls std::atan2(float, float), i.e. the C library's atan2f. glibc up to 2.40 (all
# current LTS distributions, and the reference machine) implements it with the float code of
# Sun's fdlibm (e_atan2f.c, s_atanf.c), which is not correctly rounded; the ROI rotations of
# MediaPipe are those floats, so that code is reproduced operation for operation.
def _bits(x):
    return lax.bitcast_convert_type(jnp.asarray(x, F32), jnp.int32)


_ATAN_HI = (4.6364760399e-01, 7.8539812565e-01, 9.8279368877e-01, 1.5707962513e+00)
_ATAN_LO = (5.0121582440e-09, 3.7748947079e-08, 3.4473217170e-08, 7.5497894159e-08)
_ATAN_T = (3.3333334327e-01, -2.0000000298e-01, 1.4285714924e-01, -1.1111110449e-01,
           9.0908870101e-02, -7.6918758452e-02, 6.6610731184e-02, -5.8335702866e-02,
           4.9768779427e-02, -3.6531571299e-02, 1.6285819933e-02)
_PI_F = np.float32(3.1415927410e+00)
_PI_LO_F = np.float32(-8.7422776573e-08)
_PI_O_2_F = np.float32(1.5707963705e+00)


def _horner_rn(w, coefs):
    """``c0 + w*(c1 + w*(c2 + ...))`` with each product rounded before its addition."""
    acc = jnp.full_like(w, np.float32(coefs[-1]))
    for c in coefs[-2::-1]:
        acc = mul_rn(w, acc) + np.float32(c)
    return acc


def atanf_glibc(x):
    """glibc (fdlibm) ``atanf``, bit for bit."""
    x = jnp.asarray(x, F32)
    ix = _bits(x) & 0x7FFFFFFF
    ax = jnp.abs(x)
    one = F32(1)
    ident = ix < 0x3EE00000  # |x| < 0.4375: no argument reduction
    index = jnp.select([ix < 0x3F300000, ix < 0x3F980000, ix < 0x401C0000], [0, 1, 2], 3)
    reduced = jnp.select(
        [index == 0, index == 1, index == 2],
        [div_rn(F32(2) * ax - one, F32(2) + ax), div_rn(ax - one, ax + one),
         div_rn(ax - np.float32(1.5), one + mul_rn(np.float32(1.5), ax))],
        div_rn(F32(-1), jnp.where(ax == 0, one, ax)))
    t = jnp.where(ident, x, reduced)
    z = t * t
    w = z * z
    s1 = mul_rn(z, _horner_rn(w, _ATAN_T[0::2]))
    s2 = mul_rn(w, _horner_rn(w, _ATAN_T[1::2]))
    series = mul_rn(t, s1 + s2)
    hi = jnp.asarray(np.float32(_ATAN_HI), F32)[index]
    lo = jnp.asarray(np.float32(_ATAN_LO), F32)[index]
    reduced_result = hi - ((series - lo) - t)
    reduced_result = jnp.where(x < 0, -reduced_result, reduced_result)
    huge = jnp.where(x < 0, F32(-1), one) * (np.float32(_ATAN_HI[3]) + np.float32(_ATAN_LO[3]))
    out = jnp.where(ident, t - series, reduced_result)
    out = jnp.where(ix >= 0x4C000000, huge, out)
    return jnp.where(ix > 0x7F800000, x, out)


def atan2f_glibc(y, x):
    """glibc (fdlibm) ``atan2f(y, x)``, bit for bit (NaN, zero and infinity cases included)."""
    y = jnp.asarray(y, F32)
    x = jnp.asarray(x, F32)
    hx, hy = _bits(x), _bits(y)
    ix, iy = hx & 0x7FFFFFFF, hy & 0x7FFFFFFF
    quadrant = ((hy >> 31) & 1) | ((hx >> 30) & 2)
    safe_x = jnp.where(ix == 0, F32(1), x)
    ratio_bits = (iy - ix) >> 23
    z = atanf_glibc(jnp.abs(div_rn(y, safe_x)))
    z = jnp.where(ratio_bits > 60, _PI_O_2_F + np.float32(0.5) * _PI_LO_F, z)
    z = jnp.where((hx < 0) & (ratio_bits < -60), F32(0), z)
    # (z - pi_lo) - pi is written -(pi - (z - pi_lo)), the same float: XLA would fold the two
    # constants of the first form into one.
    left = _PI_F - (z - _PI_LO_F)
    general = jnp.select([quadrant == 0, quadrant == 1, quadrant == 2], [z, -z, left], -left)
    pi_signed = jnp.where(quadrant == 2, _PI_F, -_PI_F)
    half_pi_signed = jnp.where(hy < 0, -_PI_O_2_F, _PI_O_2_F)
    quarter = np.float32(7.8539818525e-01)
    both_inf = jnp.select([quadrant == 0, quadrant == 1, quadrant == 2],
                          [quarter, -quarter, np.float32(3.0) * quarter],
                          np.float32(-3.0) * quarter)
    x_inf = jnp.select([quadrant == 0, quadrant == 1], [F32(0), F32(-0.0)], pi_signed)
    out = general
    out = jnp.where(iy == 0x7F800000, half_pi_signed, out)
    out = jnp.where(ix == 0x7F800000, jnp.where(iy == 0x7F800000, both_inf, x_inf), out)
    out = jnp.where(ix == 0, half_pi_signed, out)
    out = jnp.where(iy == 0, jnp.where(quadrant < 2, y, pi_signed), out)
    out = jnp.where(hx == 0x3F800000, atanf_glibc(y), out)
    return jnp.where((ix > 0x7F800000) | (iy > 0x7F800000), x + y, out)


# Tracing cost: the pipeline calls these helpers thousands of times per trace, each a dozen jnp
# ops. As jitted functions, a call with argument shapes seen before reuses the traced jaxpr
# (tracing the video pipeline went from 6.1 s to 3.1 s). XLA inlines the calls before it
# optimizes, so the compiled arithmetic, and the rounding the tests check bit for bit, is the same.
two_sum = jax.jit(two_sum)
fast_two_sum = jax.jit(fast_two_sum)
split = jax.jit(split)
two_prod = jax.jit(two_prod)
mul_rn = jax.jit(mul_rn)
fma_rn = jax.jit(fma_rn)
div_rn = jax.jit(div_rn)
ff_add = jax.jit(ff_add)
ff_sub = jax.jit(ff_sub)
ff_mul = jax.jit(ff_mul)
ff_div = jax.jit(ff_div)
