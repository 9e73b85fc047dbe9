// main.c — placeholder CLI entry; the CLI owner replaces it.
#include <stdio.h>
int main(void) { fprintf(stderr, "refrain: not built yet\n"); return 1; }
