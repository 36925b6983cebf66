//! Hot loops compiled twice, for AVX2 with FMA and for the baseline instruction set, with the
//! choice made at run time.

/// Defines, for each signature listed, a function that runs the parent module's function of the
/// same name compiled for AVX2 and FMA when the CPU has both, and as compiled for the baseline
/// instruction set otherwise: wide registers without `-C target-cpu` and without giving up old
/// CPUs. The parent's function should be `#[inline(always)]`, so that it and what it calls are
/// compiled into the AVX2 copy.
///
/// Both copies give the same bits as long as the code rounds the same way in both: Rust never
/// fuses `a * b + c` on its own, and `mul_add` rounds once either way (an instruction, or the
/// library's correctly rounded `fma`).
///
/// Private to this crate, so that the `unsafe` call it emits expands only here: other crates
/// reach the kernels through safe functions ([`crate::SparseRows`]'s products,
/// [`crate::fused`]) and `forbid` unsafe code.
macro_rules! dispatch_avx2_fma {
    ($($vis:vis fn $name:ident<$a:ident: Scalar>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;)*) => {$(
        #[inline]
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$a: $crate::Scalar>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn wide<$a: $crate::Scalar>($($arg: $ty),*) $(-> $ret)? {
                    super::$name($($arg),*)
                }
                if ::std::arch::is_x86_feature_detected!("avx2")
                    && ::std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: `wide`'s only precondition is that the CPU supports AVX2 and FMA,
                    // which was detected at run time just above. The crate denies unsafe code;
                    // this is the one place that allows it.
                    #[allow(unsafe_code)]
                    return unsafe { wide($($arg),*) };
                }
            }
            super::$name($($arg),*)
        }
    )*};
}

pub(crate) use dispatch_avx2_fma;

#[cfg(test)]
mod tests {
    mod kernels {
        use crate::Scalar;

        #[inline(always)]
        pub(super) fn dot<A: Scalar>(a: &[A], b: &[A]) -> A {
            a.iter()
                .zip(b)
                .fold(A::zero(), |s, (&x, &y)| x.mul_add(y, s))
        }

        pub(super) mod fast {
            crate::dispatch::dispatch_avx2_fma! {
                pub(in super::super) fn dot<A: Scalar>(a: &[A], b: &[A]) -> A;
            }
        }
    }

    #[test]
    fn both_copies_give_the_same_bits() {
        let a: Vec<f64> = (0..37).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..37).map(|i| (i as f64 * 0.11).cos()).collect();
        assert_eq!(kernels::fast::dot(&a, &b), kernels::dot(&a, &b));
        assert_eq!(kernels::fast::dot(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
    }
}
