/*
 * kernel.h — how posenc's hot loops are compiled.
 *
 * KERNEL: the function is compiled twice, for x86-64-v3 (AVX2) and for the
 * baseline, and the loader picks one (GCC target_clones). The two give
 * bitwise-equal results: the kernels are built with -ffp-contract=off (no
 * FMA contraction) and without fast-math, so a vector lane performs the same
 * float operations in the same order as the scalar code.
 */
#ifndef POSENC_KERNEL_H
#define POSENC_KERNEL_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(POSENC_NO_CLONES)
#define KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define KERNEL
#endif
#define INLINE static inline __attribute__((always_inline))

#endif
