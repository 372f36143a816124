/* verifier: idioms that keep a bounds check the verifier needs in the
 * compiled program. */
#ifndef XVPC_VERIFIER_H
#define XVPC_VERIFIER_H

/* Keep the compiler from assuming a range it proved, so the bounds check that
 * follows survives for the verifier. */
#define xvpc_opaque(x) asm volatile("" : "+r"(x))

#endif
