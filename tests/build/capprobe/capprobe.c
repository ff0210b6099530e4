/* capprobe: calls each syscall named on the command line once, in a child process of
 * its own, the way a service holding the matching capability would use it, and prints
 * "call NAME ok" or "call NAME errno N". Used by tests/test_seccomp_capabilities.py to
 * see a declared capability's syscalls go from EPERM (seccomp) to allowed.
 * Works on a file /tmp/capprobe (created here) and on its own process only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_PATH "/tmp/capprobe"
#define OTHER 4321

static char page[4096] __attribute__((aligned(4096)));
static int fd = -1; /* FILE_PATH, opened once before any call changes its owner */

static long call(const char *name) {
    static int counter;
    char fifo[64];
    snprintf(fifo, sizeof fifo, "/tmp/capprobe-fifo-%d-%d", getpid(), counter++);
    gid_t groups[1] = {OTHER};
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
#ifdef SYS_chown
    if (!strcmp(name, "chown")) return syscall(SYS_chown, FILE_PATH, OTHER, OTHER);
    if (!strcmp(name, "lchown")) return syscall(SYS_lchown, FILE_PATH, OTHER, OTHER);
    if (!strcmp(name, "chmod")) return syscall(SYS_chmod, FILE_PATH, 0640);
    if (!strcmp(name, "mknod")) return syscall(SYS_mknod, fifo, S_IFIFO | 0600, 0);
#endif
    if (!strcmp(name, "fchown")) return syscall(SYS_fchown, fd, OTHER, OTHER);
    if (!strcmp(name, "fchownat")) return syscall(SYS_fchownat, AT_FDCWD, FILE_PATH, OTHER, OTHER, 0);
    if (!strcmp(name, "fchmod")) return syscall(SYS_fchmod, fd, 0640);
    if (!strcmp(name, "fchmodat")) return syscall(SYS_fchmodat, AT_FDCWD, FILE_PATH, 0640);
    if (!strcmp(name, "utimensat")) return syscall(SYS_utimensat, AT_FDCWD, FILE_PATH, times, 0);
    if (!strcmp(name, "mknodat")) return syscall(SYS_mknodat, AT_FDCWD, fifo, S_IFIFO | 0600, 0);
    if (!strcmp(name, "setuid")) return syscall(SYS_setuid, OTHER);
    if (!strcmp(name, "setreuid")) return syscall(SYS_setreuid, OTHER, OTHER);
    if (!strcmp(name, "setresuid")) return syscall(SYS_setresuid, OTHER, OTHER, OTHER);
    if (!strcmp(name, "setfsuid")) return syscall(SYS_setfsuid, OTHER);
    if (!strcmp(name, "setgid")) return syscall(SYS_setgid, OTHER);
    if (!strcmp(name, "setregid")) return syscall(SYS_setregid, OTHER, OTHER);
    if (!strcmp(name, "setresgid")) return syscall(SYS_setresgid, OTHER, OTHER, OTHER);
    if (!strcmp(name, "setfsgid")) return syscall(SYS_setfsgid, OTHER);
    if (!strcmp(name, "setgroups")) return syscall(SYS_setgroups, 1, groups);
    if (!strcmp(name, "chroot")) return syscall(SYS_chroot, "/tmp");
    if (!strcmp(name, "mlock")) return syscall(SYS_mlock, page, sizeof page);
    if (!strcmp(name, "mlockall")) return syscall(SYS_mlockall, MCL_CURRENT);
    if (!strcmp(name, "setpriority")) return syscall(SYS_setpriority, PRIO_PROCESS, 0, 5);
    if (!strcmp(name, "sched_setaffinity")) {
        cpu_set_t set;
        sched_getaffinity(0, sizeof set, &set);
        return syscall(SYS_sched_setaffinity, 0, sizeof set, &set);
    }
    if (!strcmp(name, "setrlimit")) return syscall(SYS_setrlimit, RLIMIT_NOFILE, &lim);
    if (!strcmp(name, "kill")) return syscall(SYS_kill, getpid(), 0);
    if (!strcmp(name, "tkill")) return syscall(SYS_tkill, gettid(), 0);
    errno = ENOENT;
    return -2;
}

int main(int argc, char **argv) {
    fd = open(FILE_PATH, O_CREAT | O_RDWR, 0600);
    if (fd < 0) {
        perror("open " FILE_PATH);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            long r = call(argv[i]);
            if (r == -2) printf("call %s unknown\n", argv[i]);
            else if (r < 0) printf("call %s errno %d\n", argv[i], errno);
            else printf("call %s ok\n", argv[i]);
            fflush(stdout);
            _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
    }
    return 0;
}
