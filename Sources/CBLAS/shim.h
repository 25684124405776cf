#include <cblas.h>
/* OpenBLAS extension: the runtime pins BLAS to one thread and parallelises itself. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
