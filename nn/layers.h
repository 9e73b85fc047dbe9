// layers — float32 layers with forward and hand-written backward (llm.c style).
// Outputs first, then inputs, then sizes. Backward ACCUMULATES (+=) into every
// gradient it is given; any gradient pointer may be NULL to skip it.
// Gradients are zeroed once per step by the caller.
// Implemented in nn/linear.c, conv.c, norm.c, activations.c, attention.c.
// Call them from serial code: each parallelizes inside (OpenMP, with
// OpenBLAS kept to one thread per call), and every result is bit-identical
// for any thread count.
//
// Legend: B batch, T sequence/time length, C channels, OC output channels,
// K kernel width, N rows (B*T), H heads, D head dim (C/H), S memory length,
// E conditioning width, G groups.
#ifndef REFRAIN_NN_LAYERS_H
#define REFRAIN_NN_LAYERS_H

#include <stdint.h>

// ---- threads ------------------------------------------------------------------
// Sets OpenMP and OpenBLAS thread counts together. Results are deterministic
// for a given thread count (the layers here: the same for any count).
void nn_set_threads(int n);
int nn_threads(void);

// ---- linear: out (N, OC) = in (N, C) @ w^T (OC, C) + b (OC) -----------------------
void linear_forward(float *out, const float *in, const float *w, const float *b, int N, int C, int OC);
void linear_backward(float *din, float *dw, float *db, const float *dout,
                     const float *in, const float *w, int N, int C, int OC);

// ---- conv1d: in (B, C, T), w (OC, C, K), b (OC), out (B, OC, To) ---------------
// To = conv1d_out_len(T, K, stride, pad, dil); zero padding on both sides.
int conv1d_out_len(int T, int K, int stride, int pad, int dil);
void conv1d_forward(float *out, const float *in, const float *w, const float *b,
                    int B, int C, int T, int OC, int K, int stride, int pad, int dil);
void conv1d_backward(float *din, float *dw, float *db, const float *dout,
                     const float *in, const float *w,
                     int B, int C, int T, int OC, int K, int stride, int pad, int dil);

// ---- 2x nearest upsampling in time: in (B, C, T) -> out (B, C, 2T) ---------------
// (followed by a conv1d, this is the decoder's learned upsampling path)
void upsample2x_forward(float *out, const float *in, int B, int C, int T);
void upsample2x_backward(float *din, const float *dout, int B, int C, int T);

// Epsilon added to the variance by both norms (PyTorch's default).
#define NN_NORM_EPS 1e-5f

// ---- group norm over (B, C, T): stats per (b, group); mean, rstd: (B, G) --------
void groupnorm_forward(float *out, float *mean, float *rstd, const float *in,
                       const float *w, const float *b, int B, int C, int T, int G);
void groupnorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *mean, const float *rstd, const float *w,
                        int B, int C, int T, int G);

// ---- layer norm over the last dim of (N, C); mean, rstd: (N) ---------------------
// w, b may be NULL: no affine (AdaLN supplies shift and scale instead).
void layernorm_forward(float *out, float *mean, float *rstd, const float *in,
                       const float *w, const float *b, int N, int C);
void layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *mean, const float *rstd, const float *w, int N, int C);

// ---- activations (elementwise over n) ----------------------------------------------
void silu_forward(float *out, const float *in, long n);
void silu_backward(float *din, const float *dout, const float *in, long n);
void gelu_forward(float *out, const float *in, long n);   // tanh approximation
void gelu_backward(float *din, const float *dout, const float *in, long n);

// ---- softmax over the last dim of (N, C) ------------------------------------------
void softmax_forward(float *out, const float *in, int N, int C);
void softmax_backward(float *din, const float *dout, const float *out, int N, int C);

// ---- rotary position embedding on (B, T, H, D), in place; D even -------------------
// Pairs (2i, 2i+1) rotate by angle pos * base^(-2i/D), pos = t (0-based).
// Backward is the inverse rotation of the gradient, also in place.
void rope_forward(float *x, int B, int T, int H, int D, float base);
void rope_backward(float *dx, int B, int T, int H, int D, float base);

// ---- scaled dot-product attention core ---------------------------------------------
// q (B, Tq, H, D), k, v (B, Tk, H, D) as rows of (B, T, C) with C = H*D.
// kmask (B, Tk): 1 = attend, 0 = masked; NULL = all valid. A query whose keys are
// all masked, or Tk == 0, gets output 0 (empty memory contributes nothing).
// att (B, H, Tq, Tk) keeps the probabilities for backward. causal != 0 masks k > q.
void attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                       const uint8_t *kmask, int B, int H, int Tq, int Tk, int D, int causal);
void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *att,
                        const float *q, const float *k, const float *v,
                        int B, int H, int Tq, int Tk, int D);

// ---- AdaLN modulation ----------------------------------------------------------------
// out (B, T, C) = x * (1 + scale[b]) + shift[b];  shift, scale: (B, C)
void modulate_forward(float *out, const float *x, const float *shift, const float *scale,
                      int B, int T, int C);
void modulate_backward(float *dx, float *dshift, float *dscale, const float *dout,
                       const float *x, const float *scale, int B, int T, int C);
// out (B, T, C) = res + gate[b] * y;  gate: (B, C)   (gated residual)
void gated_residual_forward(float *out, const float *res, const float *y, const float *gate,
                            int B, int T, int C);
void gated_residual_backward(float *dres, float *dy, float *dgate, const float *dout,
                             const float *y, const float *gate, int B, int T, int C);

// ---- sinusoidal timestep embedding: t (B) -> out (B, E), E even ------------------------
// out[b, i] = cos(t * f_i), out[b, E/2 + i] = sin(t * f_i), f_i = max_period^(-i/(E/2))
void timestep_embedding(float *out, const float *t, int B, int E, float max_period);

// ---- elementwise helpers --------------------------------------------------------------
void add_inplace(float *y, const float *x, long n);          // y += x
void scale_inplace(float *y, float a, long n);

// ---- losses: return the mean loss; dpred (n) += d loss / d pred ------------------------
float mse_loss(float *dpred, const float *pred, const float *target, long n);
float l1_loss(float *dpred, const float *pred, const float *target, long n);

// ---- naive reference kernels (tests compare the optimized ones against these) ---------
void linear_forward_naive(float *out, const float *in, const float *w, const float *b, int N, int C, int OC);
void conv1d_forward_naive(float *out, const float *in, const float *w, const float *b,
                          int B, int C, int T, int OC, int K, int stride, int pad, int dil);
void attention_forward_naive(float *out, const float *q, const float *k, const float *v,
                             const uint8_t *kmask, int B, int H, int Tq, int Tk, int D, int causal);

#endif
