;; quantsim's calibration kernels: histogram binning and the elementwise ops of derived
;; statistics, for WebAssembly with SIMD, saturating float-to-int conversion and multiple results
;; (Node 20).
;; Hand-written; `pnpm build:wasm` assembles it into kernels-wasm.ts (a test checks the two agree).
;;
;; Pointers and lengths are byte offsets and element counts in the exported memory.
(module
  (memory (export "memory") 2)

  ;; Bins n float32 values at src into four i32 counters per bin at c: value i goes to counter
  ;; 4 * k + (i mod 4) of bin k = floor(v * inv) - first, computed in float64 exactly as the
  ;; JavaScript binning does. Values whose bin falls outside [0, len), and NaN, go to the four
  ;; counters of bin len (the strays): the caller checks those are zero. Four values a step, their
  ;; bins computed two at a time in float64 lanes; each of the four has its own counter per bin,
  ;; so that runs of one value do not wait on the same counter's last store.
  (func (export "bin") (param $src i32) (param $n i32) (param $c i32) (param $len i32) (param $inv f64) (param $first f64)
    (local $i i32) (local $end i32) (local $a i32) (local $f f64) (local $s i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $k v128)
    (local $inv2 v128) (local $first2 v128) (local $len4 v128) (local $base v128)
    (local.set $inv2 (f64x2.splat (local.get $inv)))
    (local.set $first2 (f64x2.splat (local.get $first)))
    (local.set $len4 (i32x4.splat (local.get $len)))
    (local.set $base (i32x4.add (i32x4.splat (local.get $c)) (v128.const i32x4 0 4 8 12)))
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (local.get $i)))
        (local.set $lo (f64x2.sub (f64x2.floor (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (local.get $inv2))) (local.get $first2)))
        (local.set $hi (f64x2.sub (f64x2.floor (f64x2.mul
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
          (local.get $inv2))) (local.get $first2)))
        (local.set $k (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (i32x4.trunc_sat_f64x2_s_zero (local.get $lo)) (i32x4.trunc_sat_f64x2_s_zero (local.get $hi))))
        ;; Outside [0, len) (saturated conversions included) or NaN (v != v): the stray bin.
        (local.set $k (v128.bitselect (local.get $k) (local.get $len4)
          (v128.and (i32x4.lt_u (local.get $k) (local.get $len4)) (f32x4.eq (local.get $v) (local.get $v)))))
        (local.set $k (i32x4.add (i32x4.shl (local.get $k) (i32.const 4)) (local.get $base)))
        (local.set $a (i32x4.extract_lane 0 (local.get $k)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 1 (local.get $k)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 2 (local.get $k)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 3 (local.get $k)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    ;; The last n mod 4 values, on counter 0 of their bins.
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $f (f64.sub (f64.floor (f64.mul (f64.promote_f32 (f32.load (local.get $i))) (local.get $inv))) (local.get $first)))
        (local.set $s (i32.trunc_sat_f64_s (local.get $f)))
        (local.set $s (select (local.get $s) (local.get $len)
          (i32.and (i32.lt_u (local.get $s) (local.get $len)) (f64.eq (local.get $f) (local.get $f)))))
        (local.set $a (i32.add (local.get $c) (i32.shl (local.get $s) (i32.const 4))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; "bin" with the bin computed in float32 lanes: k = floor(v * inv) - first, then the integer
  ;; k from the bits of k + 2^23. Sixteen values a step: their counter addresses go to the scratch
  ;; bytes 131008 … 131071 (between the counters and the values) in four vector stores and come
  ;; back as scalar loads, which is faster than extracting lanes; value i still goes to counter
  ;; i mod 4 of its bin. The same bins as "bin" when inv is a power of
  ;; two in [1, 2^127] and |first| <= 2^22 (the caller checks):
  ;; - v * inv only raises the exponent of v (subnormal v included), so it is exact in float32
  ;;   unless it overflows to ±Infinity. (With inv = 1/2, -2^-149 * inv would round to -0 and
  ;;   floor to bin 0 instead of -1.)
  ;; - floor(v * inv) - first is exact when |floor(v * inv)| < 2^24 (integers below 2^25 apart);
  ;;   otherwise it is at least 2^24 - 2^22 from 0, rounded or not: outside [0, len).
  ;; - for k in [0, 2^23), k + 2^23 is exact and its bits are 0x4B000000 + k; any other k (negative,
  ;;   2^23 or more, ±Infinity, NaN) gives bits that are not in [0x4B000000, 0x4B000000 + len), so
  ;;   bits - 0x4B000000, unsigned, is len or more: i32x4.min_u makes it the stray bin len.
  (func (export "bin32") (param $src i32) (param $n i32) (param $c i32) (param $len i32) (param $inv f32) (param $first f32)
    (local $i i32) (local $end i32) (local $a i32) (local $s i32) (local $f f32)
    (local $inv4 v128) (local $first4 v128) (local $magic4 v128) (local $bits4 v128) (local $len4 v128) (local $base v128)
    (local.set $inv4 (f32x4.splat (local.get $inv)))
    (local.set $first4 (f32x4.splat (local.get $first)))
    (local.set $magic4 (f32x4.splat (f32.const 0x1p23)))
    (local.set $bits4 (i32x4.splat (i32.const 0x4B000000)))
    (local.set $len4 (i32x4.splat (local.get $len)))
    (local.set $base (i32x4.add (i32x4.splat (local.get $c)) (v128.const i32x4 0 4 8 12)))
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.const 131008)
          (i32x4.add (i32x4.shl (i32x4.min_u
            (i32x4.sub
              (f32x4.add
                (f32x4.sub (f32x4.floor (f32x4.mul (v128.load offset=0 (local.get $i)) (local.get $inv4))) (local.get $first4))
                (local.get $magic4))
              (local.get $bits4))
            (local.get $len4)) (i32.const 4)) (local.get $base)))
        (v128.store (i32.const 131024)
          (i32x4.add (i32x4.shl (i32x4.min_u
            (i32x4.sub
              (f32x4.add
                (f32x4.sub (f32x4.floor (f32x4.mul (v128.load offset=16 (local.get $i)) (local.get $inv4))) (local.get $first4))
                (local.get $magic4))
              (local.get $bits4))
            (local.get $len4)) (i32.const 4)) (local.get $base)))
        (v128.store (i32.const 131040)
          (i32x4.add (i32x4.shl (i32x4.min_u
            (i32x4.sub
              (f32x4.add
                (f32x4.sub (f32x4.floor (f32x4.mul (v128.load offset=32 (local.get $i)) (local.get $inv4))) (local.get $first4))
                (local.get $magic4))
              (local.get $bits4))
            (local.get $len4)) (i32.const 4)) (local.get $base)))
        (v128.store (i32.const 131056)
          (i32x4.add (i32x4.shl (i32x4.min_u
            (i32x4.sub
              (f32x4.add
                (f32x4.sub (f32x4.floor (f32x4.mul (v128.load offset=48 (local.get $i)) (local.get $inv4))) (local.get $first4))
                (local.get $magic4))
              (local.get $bits4))
            (local.get $len4)) (i32.const 4)) (local.get $base)))
        (local.set $a (i32.load (i32.const 131008)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131012)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131016)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131020)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131024)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131028)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131032)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131036)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131040)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131044)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131048)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131052)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131056)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131060)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131064)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load (i32.const 131068)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $next)))
    ;; The last n mod 16 values, on counter 0 of their bins.
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $f (f32.load (local.get $i)))
        (local.set $s
          (i32.sub
            (i32.reinterpret_f32
              (f32.add (f32.sub (f32.floor (f32.mul (local.get $f) (local.get $inv))) (local.get $first)) (f32.const 0x1p23)))
            (i32.const 0x4B000000)))
        (local.set $s (select (local.get $s) (local.get $len) (i32.lt_u (local.get $s) (local.get $len))))
        (local.set $a (i32.add (local.get $c) (i32.shl (local.get $s) (i32.const 4))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; The elementwise ops of derived statistics (see derived-values.ts): out[i] = f(src[i]) for
  ;; n float32 values, four a step. Float32 IEEE arithmetic is what the backend's kernels do.
  ;; out[i] = src[i] + c, as float32 arithmetic rounds it.
  (func (export "add") (param $src i32) (param $out i32) (param $n i32) (param $c f32)
    (local $i i32) (local $end i32) (local $cv v128)
    (local.set $cv (f32x4.splat (local.get $c)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $src) (local.get $i))) (local.get $cv)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.add (f32.load (i32.add (local.get $src) (local.get $i))) (local.get $c)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; out[i] = c - src[i].
  (func (export "rsub") (param $src i32) (param $out i32) (param $n i32) (param $c f32)
    (local $i i32) (local $end i32) (local $cv v128)
    (local.set $cv (f32x4.splat (local.get $c)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.sub (local.get $cv) (v128.load (i32.add (local.get $src) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.sub (local.get $c) (f32.load (i32.add (local.get $src) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; out[i] = src[i] * c.
  (func (export "mul") (param $src i32) (param $out i32) (param $n i32) (param $c f32)
    (local $i i32) (local $end i32) (local $cv v128)
    (local.set $cv (f32x4.splat (local.get $c)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.mul (v128.load (i32.add (local.get $src) (local.get $i))) (local.get $cv)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.mul (f32.load (i32.add (local.get $src) (local.get $i))) (local.get $c)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; out[i] = src[i] / c.
  (func (export "div") (param $src i32) (param $out i32) (param $n i32) (param $c f32)
    (local $i i32) (local $end i32) (local $cv v128)
    (local.set $cv (f32x4.splat (local.get $c)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.div (v128.load (i32.add (local.get $src) (local.get $i))) (local.get $cv)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.div (f32.load (i32.add (local.get $src) (local.get $i))) (local.get $c)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; out[i] = min(max(src[i], lo), hi); min and max order -0 below +0, as Math.min and Math.max do.
  (func (export "clamp") (param $src i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $i i32) (local $end i32) (local $lov v128) (local $hiv v128)
    (local.set $lov (f32x4.splat (local.get $lo)))
    (local.set $hiv (f32x4.splat (local.get $hi)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.min (f32x4.max (v128.load (i32.add (local.get $src) (local.get $i))) (local.get $lov)) (local.get $hiv)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.min (f32.max (f32.load (i32.add (local.get $src) (local.get $i))) (local.get $lo)) (local.get $hi)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; The least and greatest of n values, eight a step in two pairs of running extremes with
  ;; f32x4.pmin and pmax, NaN caught apart, as "product" does: both NaN when a value is NaN; a zero
  ;; extreme may come out as either sign.
  (func (export "extent") (param $src i32) (param $n i32) (result f32 f32)
    (local $i i32) (local $end i32) (local $v v128) (local $w v128)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $nan v128)
    (local $x f32) (local $lo f32) (local $hi f32) (local $any i32)
    (local.set $lo0 (f32x4.splat (f32.const inf)))
    (local.set $lo1 (local.get $lo0))
    (local.set $hi0 (f32x4.splat (f32.const -inf)))
    (local.set $hi1 (local.get $hi0))
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (local.get $i)))
        (local.set $w (v128.load offset=16 (local.get $i)))
        (local.set $lo0 (f32x4.pmin (local.get $lo0) (local.get $v)))
        (local.set $hi0 (f32x4.pmax (local.get $hi0) (local.get $v)))
        (local.set $lo1 (f32x4.pmin (local.get $lo1) (local.get $w)))
        (local.set $hi1 (f32x4.pmax (local.get $hi1) (local.get $w)))
        (local.set $nan
          (v128.or (local.get $nan) (v128.or (f32x4.ne (local.get $v) (local.get $v)) (f32x4.ne (local.get $w) (local.get $w)))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $next)))
    (local.set $lo0 (f32x4.pmin (local.get $lo0) (local.get $lo1)))
    (local.set $hi0 (f32x4.pmax (local.get $hi0) (local.get $hi1)))
    (local.set $lo
      (f32.min
        (f32.min (f32x4.extract_lane 0 (local.get $lo0)) (f32x4.extract_lane 1 (local.get $lo0)))
        (f32.min (f32x4.extract_lane 2 (local.get $lo0)) (f32x4.extract_lane 3 (local.get $lo0)))))
    (local.set $hi
      (f32.max
        (f32.max (f32x4.extract_lane 0 (local.get $hi0)) (f32x4.extract_lane 1 (local.get $hi0)))
        (f32.max (f32x4.extract_lane 2 (local.get $hi0)) (f32x4.extract_lane 3 (local.get $hi0)))))
    (local.set $any (v128.any_true (local.get $nan)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (f32.load (local.get $i)))
        (local.set $lo (f32.min (local.get $lo) (local.get $x)))
        (local.set $hi (f32.max (local.get $hi) (local.get $x)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (if (local.get $any)
      (then
        (local.set $lo (f32.const nan))
        (local.set $hi (f32.const nan))))
    (local.get $lo)
    (local.get $hi))

  ;; out[i] = a[i] * b[i], and the least and greatest product. Eight products a step, in two
  ;; pairs of running extremes (f32x4.pmin and pmax, one instruction each, so that the loop does
  ;; not wait on them); pmin and pmax skip NaN and keep either zero, so a NaN product is caught
  ;; apart (x != x) and makes both results NaN. A zero extreme may come out as either sign.
  (func (export "product") (param $a i32) (param $b i32) (param $out i32) (param $n i32) (result f32 f32)
    (local $i i32) (local $end i32) (local $v v128) (local $w v128)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $nan v128)
    (local $x f32) (local $lo f32) (local $hi f32) (local $any i32)
    (local.set $lo0 (f32x4.splat (f32.const inf)))
    (local.set $lo1 (local.get $lo0))
    (local.set $hi0 (f32x4.splat (f32.const -inf)))
    (local.set $hi1 (local.get $hi0))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v
          (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $i))) (v128.load (i32.add (local.get $b) (local.get $i)))))
        (local.set $w
          (f32x4.mul
            (v128.load offset=16 (i32.add (local.get $a) (local.get $i)))
            (v128.load offset=16 (i32.add (local.get $b) (local.get $i)))))
        (v128.store (i32.add (local.get $out) (local.get $i)) (local.get $v))
        (v128.store offset=16 (i32.add (local.get $out) (local.get $i)) (local.get $w))
        (local.set $lo0 (f32x4.pmin (local.get $lo0) (local.get $v)))
        (local.set $hi0 (f32x4.pmax (local.get $hi0) (local.get $v)))
        (local.set $lo1 (f32x4.pmin (local.get $lo1) (local.get $w)))
        (local.set $hi1 (f32x4.pmax (local.get $hi1) (local.get $w)))
        (local.set $nan
          (v128.or (local.get $nan) (v128.or (f32x4.ne (local.get $v) (local.get $v)) (f32x4.ne (local.get $w) (local.get $w)))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $next)))
    (local.set $lo0 (f32x4.pmin (local.get $lo0) (local.get $lo1)))
    (local.set $hi0 (f32x4.pmax (local.get $hi0) (local.get $hi1)))
    (local.set $lo
      (f32.min
        (f32.min (f32x4.extract_lane 0 (local.get $lo0)) (f32x4.extract_lane 1 (local.get $lo0)))
        (f32.min (f32x4.extract_lane 2 (local.get $lo0)) (f32x4.extract_lane 3 (local.get $lo0)))))
    (local.set $hi
      (f32.max
        (f32.max (f32x4.extract_lane 0 (local.get $hi0)) (f32x4.extract_lane 1 (local.get $hi0)))
        (f32.max (f32x4.extract_lane 2 (local.get $hi0)) (f32x4.extract_lane 3 (local.get $hi0)))))
    (local.set $any (v128.any_true (local.get $nan)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x
          (f32.mul (f32.load (i32.add (local.get $a) (local.get $i))) (f32.load (i32.add (local.get $b) (local.get $i)))))
        (f32.store (i32.add (local.get $out) (local.get $i)) (local.get $x))
        (local.set $lo (f32.min (local.get $lo) (local.get $x)))
        (local.set $hi (f32.max (local.get $hi) (local.get $x)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (if (local.get $any)
      (then
        (local.set $lo (f32.const nan))
        (local.set $hi (f32.const nan))))
    (local.get $lo)
    (local.get $hi))

  ;; Adds up the four counters of each of len bins at c (bin k's at c + 16k) into the i32 at
  ;; out + 4k, and zeroes them: four bins a step, their sums transposed into one vector by two
  ;; rounds of pairwise shuffles and adds.
  (func (export "fold") (param $c i32) (param $len i32) (param $out i32)
    (local $k i32) (local $end i32) (local $a i32) (local $s01 v128) (local $s23 v128) (local $v v128)
    (local.set $end (i32.and (local.get $len) (i32.const -4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $a (i32.add (local.get $c) (i32.shl (local.get $k) (i32.const 4))))
        (local.set $v (v128.load offset=16 (local.get $a)))
        (local.set $s01 (i32x4.add
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $a)) (local.get $v))
          (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load (local.get $a)) (local.get $v))))
        (local.set $v (v128.load offset=48 (local.get $a)))
        (local.set $s23 (i32x4.add
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $a)) (local.get $v))
          (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load offset=32 (local.get $a)) (local.get $v))))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))) (i32x4.add
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s01) (local.get $s23))
          (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s01) (local.get $s23))))
        (v128.store (local.get $a) (v128.const i32x4 0 0 0 0))
        (v128.store offset=16 (local.get $a) (v128.const i32x4 0 0 0 0))
        (v128.store offset=32 (local.get $a) (v128.const i32x4 0 0 0 0))
        (v128.store offset=48 (local.get $a) (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $len)))
        (local.set $a (i32.add (local.get $c) (i32.shl (local.get $k) (i32.const 4))))
        (local.set $v (v128.load (local.get $a)))
        (local.set $v (i32x4.add (local.get $v) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
          (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v))))
        (v128.store (local.get $a) (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next))))
)
