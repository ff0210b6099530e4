/*
 * Tries syscalls a hardened container must not be able to make and reports, one line
 * each, whether the kernel refused them:
 *
 *   probe <syscall> denied EPERM|ENOSYS     (refused: seccomp, or a missing capability)
 *   probe <syscall> allowed [errno N]       (reached the kernel and was not refused)
 *
 * Exit status: 0 when every probe was denied, 1 otherwise, 2 when run as root.
 *
 * Freestanding (no libc): besides the probed calls it makes only getuid, write and
 * exit_group, so it starts under any profile, even the smallest one.
 * Build: gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 -o probe probe.c
 * (x86_64 and aarch64).
 *
 * unshare(CLONE_NEWUSER), clone(CLONE_NEWUSER), ptrace(PTRACE_TRACEME) and
 * keyctl(KEYCTL_GET_KEYRING_ID) succeed for an unprivileged process when no seccomp filter is loaded, so they show
 * the filter itself at work; mount, bpf, init_module and reboot also need capabilities.
 *
 * The calls are real (a mount over /tmp, a new user namespace...): run it only inside a
 * throwaway container. It refuses to run as root.
 */
#include <asm/unistd.h>

#define EPERM 1
#define ENOSYS 38
#define CLONE_NEWUSER 0x10000000L
#define SIGCHLD 17L
#define PTRACE_TRACEME 0L
#define KEYCTL_GET_KEYRING_ID 0L
#define KEY_SPEC_SESSION_KEYRING (-3L)
#define BPF_MAP_CREATE 0L
#define BPF_MAP_TYPE_ARRAY 2U
#define LINUX_REBOOT_MAGIC1 0xfee1deadL
#define LINUX_REBOOT_MAGIC2 672274793L
#define LINUX_REBOOT_CMD_CAD_OFF 0L

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#else
#error "probe.c supports x86_64 and aarch64"
#endif
}

static unsigned long len(const char *s) {
    unsigned long n = 0;
    while (s[n]) n++;
    return n;
}

static void out(const char *s) { sys6(__NR_write, 1, (long)s, (long)len(s), 0, 0, 0); }

static void out_num(long v) {
    char buf[24];
    int i = sizeof(buf) - 1;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    out(&buf[i]);
}

static int failures;

static void report(const char *name, long rc) {
    out("probe ");
    out(name);
    if (rc == -EPERM || rc == -ENOSYS) {
        out(rc == -EPERM ? " denied EPERM\n" : " denied ENOSYS\n");
        return;
    }
    failures++;
    out(" allowed");
    if (rc < 0 && rc > -4096) {
        out(" errno ");
        out_num(-rc);
    }
    out("\n");
}

struct bpf_map_attr {
    unsigned int map_type, key_size, value_size, max_entries, map_flags;
    unsigned char pad[108];
};

void _start(void) {
    static struct bpf_map_attr attr;
    long rc;
    if (sys6(__NR_getuid, 0, 0, 0, 0, 0, 0) == 0 || sys6(__NR_geteuid, 0, 0, 0, 0, 0, 0) == 0) {
        out("probe: refusing to run as root (the probed calls are real)\n");
        sys6(__NR_exit_group, 2, 0, 0, 0, 0, 0);
    }
    report("mount", sys6(__NR_mount, (long)"none", (long)"/tmp", (long)"tmpfs", 0, 0, 0));
    /* clone(CLONE_NEWUSER) does what unshare does: the filter must look at its flags.
       Without a new stack the child runs on a copy of ours, like fork, and leaves. */
    rc = sys6(__NR_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0, 0);
    if (rc == 0) sys6(__NR_exit_group, 0, 0, 0, 0, 0, 0);
    /* Reap the child now: once ptrace(PTRACE_TRACEME) below has made the probe a tracee,
       a late SIGCHLD would stop it (a traced process does not ignore signals) and the
       tracer, runc, never resumes it. */
    if (rc > 0) sys6(__NR_wait4, rc, 0, 0, 0, 0, 0);
    report("clone_newuser", rc);
    /* After this the probe sits in an unmapped user namespace: keep it after clone. */
    report("unshare", sys6(__NR_unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0));
    report("ptrace", sys6(__NR_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0));
    report("keyctl",
           sys6(__NR_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0, 0));
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    report("bpf", sys6(__NR_bpf, BPF_MAP_CREATE, (long)&attr, sizeof(attr), 0, 0, 0));
    report("init_module", sys6(__NR_init_module, 0, 0, (long)"", 0, 0, 0));
    report("reboot", sys6(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                          LINUX_REBOOT_CMD_CAD_OFF, 0, 0, 0));
    sys6(__NR_exit_group, failures == 0 ? 0 : 1, 0, 0, 0, 0, 0);
    for (;;) {
    }
}
