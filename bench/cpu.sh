# bench/cpu.sh — sourced by the bench scripts and scripts/eval-ae.sh.
# cpu_desc prints the CPU the figures were measured on: model name, cores
# visible and the widest SIMD the kernels can use (AVX-512 halves the
# element-wise loops' time against AVX2, so reports from different machines
# are compared with this in view).
cpu_desc() {
    local simd=AVX2
    grep -q -m1 'avx512f' /proc/cpuinfo && simd=AVX-512
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores visible, $simd"
}
