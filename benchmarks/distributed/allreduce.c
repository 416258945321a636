/* Open MPI's own MPI_Allreduce (in place, float32 sum) on the buffer sizes of the Stax
 * benchmark, timed the same way (barrier, then one call; median of repetitions): the floor the
 * .NET binding is compared with. Build: mpicc -O2 -o allreduce allreduce.c
 * With an argument (a byte count), only that size: run.sh times the MLP step's gradient bytes in every
 * round, as a measure of what the machine's cores give a transfer at that moment. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) printf("c-allreduce processes=%d\n", size);
    long only = argc > 1 ? atol(argv[1]) : 0;
    for (long bytes = only ? only : 1024; bytes <= (only ? only : 64L << 20); bytes *= 4) {
        int n = (int)(bytes / 4);
        int reps = bytes <= (1 << 20) ? 200 : bytes <= (16 << 20) ? 20 : 8;
        float *buf = calloc(n, sizeof(float));
        double *t = malloc(sizeof(double) * reps);
        for (int i = 0; i < reps + 3; i++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double s = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            if (i >= 3) t[i - 3] = MPI_Wtime() - s;
        }
        qsort(t, reps, sizeof(double), cmp);
        double m = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
        if (rank == 0) printf("bytes=%ld c_us=%.1f c_GBps=%.3f\n", bytes, m * 1e6, bytes / m / 1e9);
        free(buf);
        free(t);
    }
    MPI_Finalize();
    return 0;
}
