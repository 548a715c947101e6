/*
 * fakecam: a user-space V4L2 camera emulator, loaded with LD_PRELOAD.
 *
 * It makes /dev/videoN capture devices appear to the process it is loaded
 * into: they show up in the /dev listing and in /sys/class/video4linux, open,
 * answer the V4L2 ioctls a capture application makes (whether through
 * ioctl() or syscall(SYS_ioctl, ...)), and stream MJPEG or YUYV frames made
 * from JPEG pictures at the negotiated size and rate into real mmap'd
 * buffers. Faults (unplug, stall, corrupt frames, slow frames, busy, denied)
 * are injected at run time through a control file.
 *
 * Everything that does not concern a fake device passes through to the next
 * definition of the function (dlsym(RTLD_NEXT, ...)).
 *
 * See README.md beside this file for the control surface.
 *
 * Build: cc -O2 -shared -fPIC -o libfakecam.so fakecam.c -ldl -lpthread -lturbojpeg
 */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>
#include <turbojpeg.h>

#define FC_EXPORT __attribute__((visibility("default")))

#define MAX_DEVS 16
#define MAX_FMTS 4
#define MAX_SIZES 8
#define MAX_RATES 8
#define MAX_BUFS 32
#define MAX_FDS 65536
#define VIDEO_MAJOR 81
#define SLICE_NS 10000000ULL /* longest single sleep while waiting: 10 ms */

/* ------------------------------------------------------------------------ */
/* The next definitions of the functions we interpose.                       */

#define REAL(name) real_fn_##name()
#define DEFINE_REAL(ret, name, args)                                           \
    typedef ret(*name##_fn_t) args;                                            \
    static name##_fn_t real_fn_##name(void) {                                  \
        static name##_fn_t p;                                                  \
        name##_fn_t v = __atomic_load_n(&p, __ATOMIC_ACQUIRE);                 \
        if (!v) {                                                              \
            v = (name##_fn_t)dlsym(RTLD_NEXT, #name);                          \
            __atomic_store_n(&p, v, __ATOMIC_RELEASE);                         \
        }                                                                      \
        return v;                                                              \
    }

DEFINE_REAL(int, open, (const char *, int, ...))
DEFINE_REAL(int, open64, (const char *, int, ...))
DEFINE_REAL(int, openat, (int, const char *, int, ...))
DEFINE_REAL(int, openat64, (int, const char *, int, ...))
DEFINE_REAL(int, __open_2, (const char *, int))
DEFINE_REAL(int, __open64_2, (const char *, int))
DEFINE_REAL(int, __openat_2, (int, const char *, int))
DEFINE_REAL(int, __openat64_2, (int, const char *, int))
DEFINE_REAL(FILE *, fopen, (const char *, const char *))
DEFINE_REAL(FILE *, fopen64, (const char *, const char *))
DEFINE_REAL(int, close, (int))
DEFINE_REAL(int, close_range, (unsigned, unsigned, int))
DEFINE_REAL(int, dup, (int))
DEFINE_REAL(int, dup2, (int, int))
DEFINE_REAL(int, dup3, (int, int, int))
DEFINE_REAL(ssize_t, read, (int, void *, size_t))
DEFINE_REAL(ssize_t, __read_chk, (int, void *, size_t, size_t))
DEFINE_REAL(int, ioctl, (int, unsigned long, ...))
DEFINE_REAL(long, syscall, (long, ...))
DEFINE_REAL(void *, mmap, (void *, size_t, int, int, int, off_t))
DEFINE_REAL(void *, mmap64, (void *, size_t, int, int, int, off64_t))
DEFINE_REAL(int, poll, (struct pollfd *, nfds_t, int))
DEFINE_REAL(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))
DEFINE_REAL(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
DEFINE_REAL(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))
DEFINE_REAL(int, epoll_ctl, (int, int, int, struct epoll_event *))
DEFINE_REAL(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *))
DEFINE_REAL(DIR *, opendir, (const char *))
DEFINE_REAL(struct dirent *, readdir, (DIR *))
DEFINE_REAL(struct dirent64 *, readdir64, (DIR *))
DEFINE_REAL(int, closedir, (DIR *))
DEFINE_REAL(void, rewinddir, (DIR *))
DEFINE_REAL(int, stat, (const char *, struct stat *))
DEFINE_REAL(int, stat64, (const char *, struct stat64 *))
DEFINE_REAL(int, lstat, (const char *, struct stat *))
DEFINE_REAL(int, lstat64, (const char *, struct stat64 *))
DEFINE_REAL(int, fstat, (int, struct stat *))
DEFINE_REAL(int, fstat64, (int, struct stat64 *))
DEFINE_REAL(int, fstatat, (int, const char *, struct stat *, int))
DEFINE_REAL(int, fstatat64, (int, const char *, struct stat64 *, int))
DEFINE_REAL(int, statx, (int, const char *, int, unsigned, struct statx *))
DEFINE_REAL(ssize_t, getxattr, (const char *, const char *, void *, size_t))
DEFINE_REAL(ssize_t, lgetxattr, (const char *, const char *, void *, size_t))
DEFINE_REAL(ssize_t, listxattr, (const char *, char *, size_t))
DEFINE_REAL(ssize_t, llistxattr, (const char *, char *, size_t))
DEFINE_REAL(int, access, (const char *, int))
DEFINE_REAL(int, faccessat, (int, const char *, int, int))

/* ------------------------------------------------------------------------ */
/* State.                                                                    */

enum { CORRUPT_MIXED = 0, CORRUPT_TRUNCATE, CORRUPT_GARBAGE, CORRUPT_HUFFMAN };

struct fcbuf {
    int queued;       /* in the incoming queue */
    int mapped;       /* mmap'd at least once */
    uint32_t bytesused;
    size_t dirty;     /* bytes written by the last fill */
};

struct fcfile;

struct fcdev {
    int pos;   /* position in FAKECAM_DEVICES, the number the control file uses */
    int node;  /* N of /dev/videoN */
    char name[32];
    uint32_t fourcc[MAX_FMTS];
    int nfmt;
    uint32_t w[MAX_SIZES], h[MAX_SIZES];
    int nsize;
    uint32_t rate[MAX_RATES];
    int nrate;
    char image[PATH_MAX];
    char image_cfg[PATH_MAX]; /* the configured one, for reset */
    unsigned image_version;

    /* faults */
    int present;
    unsigned generation; /* bumped on unplug: older handles stay dead */
    int stalled, busy, denied;
    uint64_t slow_ns;
    int corrupt_left, corrupt_mode;
    unsigned corrupt_count;

    /* negotiated format (device state, shared by all handles) */
    uint32_t cur_fourcc, cur_w, cur_h, cur_fps;

    /* buffer queue */
    struct fcfile *owner;
    int nbufs;
    size_t sizeimage, buflen;
    int memfd;
    uint8_t *map;
    struct fcbuf bufs[MAX_BUFS];
    int q[MAX_BUFS];
    int qhead, qcount;
    int streaming;
    uint64_t next_due;
    uint32_t seq;

    /* decoded source picture */
    uint8_t *src_rgb;
    int src_w, src_h;
    unsigned src_version;
    int src_valid;

    /* frame prepared for the negotiated format */
    uint8_t *prep;
    size_t prep_len;
    uint32_t prep_fourcc, prep_w, prep_h;
    unsigned prep_version;
    int prep_valid;
};

/* An open file description of a fake device (shared by dup'd fds). */
struct fcfile {
    struct fcdev *dev;
    unsigned generation;
    int refs;
    int fd; /* one of its fds, to read the O_NONBLOCK flag with fcntl */
};

/* A directory stream we add entries to. */
struct fcdir {
    DIR *dir;
    int kind; /* 1: /dev, 2: /sys/class/video4linux */
    int real_done;
    int skip_real;
    int next;
    struct dirent64 ent;
    struct fcdir *nextdir;
};

/* epoll sets that hold fake fds (kept out of the kernel's set). */
struct fcepoll_item {
    int fd;
    struct epoll_event ev;
    int disabled; /* EPOLLONESHOT fired */
};
struct fcepoll {
    int epfd;
    struct fcepoll_item items[MAX_DEVS * 4];
    int n;
    struct fcepoll *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static struct fcdev g_devs[MAX_DEVS];
static int g_ndev;
static struct fcfile *g_fds[MAX_FDS];
static int g_nfake_fds; /* how many fds are fake, for fast paths */
static struct fcdir *g_dirs;
static struct fcepoll *g_epolls;
static int g_debug;
static int g_quality = 85;
static char g_control[PATH_MAX];
static time_t g_load_time;
static uint32_t g_kernel_version;

/* control file tracking */
static struct {
    int seen;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char *applied; /* text of the complete lines applied so far */
    size_t applied_len;
} g_ctl;

#define dbg(...)                                                               \
    do {                                                                       \
        if (g_debug) {                                                         \
            fprintf(stderr, "fakecam: " __VA_ARGS__);                          \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

static void warnmsg(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("fakecam: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t) {
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ULL), .tv_nsec = (long)(t % 1000000000ULL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static inline struct fcfile *fake_file(int fd) {
    if (fd < 0 || fd >= MAX_FDS)
        return NULL;
    return __atomic_load_n(&g_fds[fd], __ATOMIC_ACQUIRE);
}

/* The headers declare path arguments nonnull; callers may still pass NULL
 * (the real function then fails with EFAULT), so hide the attribute. */
static inline const char *launder(const char *p) {
    __asm__("" : "+r"(p));
    return p;
}

static inline int is_abs(const char *p) {
    p = launder(p);
    return p && p[0] == '/';
}

static inline int any_fake(void) { return __atomic_load_n(&g_nfake_fds, __ATOMIC_ACQUIRE) > 0; }

static int file_alive(const struct fcfile *f) {
    return f->dev->present && f->generation == f->dev->generation;
}

/* ------------------------------------------------------------------------ */
/* Configuration.                                                            */

/* Split s on sep into at most max items (copies into out, each of size outsz). */
static int split(const char *s, char sep, char out[][PATH_MAX], int max) {
    int n = 0;
    if (!s || !*s)
        return 0;
    while (n < max) {
        const char *e = strchr(s, sep);
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len >= PATH_MAX)
            len = PATH_MAX - 1;
        /* trim */
        while (len && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'))
            len--;
        memcpy(out[n], s, len);
        out[n][len] = 0;
        n++;
        if (!e)
            break;
        s = e + 1;
    }
    return n;
}

/* Entry i of a ';' list; a shorter list repeats its last entry. */
static const char *list_entry(char items[][PATH_MAX], int n, int i, const char *dflt) {
    if (n == 0)
        return dflt;
    const char *v = items[i < n ? i : n - 1];
    return *v ? v : dflt;
}

static uint32_t parse_fourcc(const char *s) {
    char buf[8] = {0};
    size_t n = strlen(s);
    if (n != 4)
        return 0;
    for (int i = 0; i < 4; i++)
        buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    if (!strcmp(buf, "MJPG") || !strcmp(buf, "MJPE") || !strcmp(buf, "JPEG"))
        return V4L2_PIX_FMT_MJPEG;
    if (!strcmp(buf, "YUYV") || !strcmp(buf, "YUY2"))
        return V4L2_PIX_FMT_YUYV;
    return 0;
}

static void absolutize(char *dst, const char *src) {
    if (src[0] == '/' || !src[0]) {
        snprintf(dst, PATH_MAX, "%s", src);
        return;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
        snprintf(dst, PATH_MAX, "%s", src);
        return;
    }
    if (strlen(cwd) + 1 + strlen(src) >= PATH_MAX) {
        snprintf(dst, PATH_MAX, "%s", src);
        return;
    }
    strcpy(dst, cwd);
    strcat(dst, "/");
    strcat(dst, src);
}

static void check_control_locked(void);

static void set_default_format(struct fcdev *d) {
    d->cur_fourcc = d->fourcc[0];
    d->cur_w = d->w[0];
    d->cur_h = d->h[0];
    d->cur_fps = d->rate[0];
}

static int rates_for(const struct fcdev *d, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t *out);

static void init_once(void) {
    static char items[MAX_DEVS][PATH_MAX];
    static char fitems[MAX_DEVS][PATH_MAX];
    static char iitems[MAX_DEVS][PATH_MAX];
    static char sitems[MAX_DEVS][PATH_MAX];
    static char ritems[MAX_DEVS][PATH_MAX];
    char sub[MAX_SIZES][PATH_MAX];

    const char *e = getenv("FAKECAM_DEBUG");
    g_debug = e && *e && strcmp(e, "0") != 0 ? (atoi(e) >= 2 ? 2 : 1) : 0;
    g_load_time = time(NULL);
    e = getenv("FAKECAM_QUALITY");
    if (e && atoi(e) >= 1 && atoi(e) <= 100)
        g_quality = atoi(e);

    struct utsname u;
    int kmaj = 6, kmin = 1, kpatch = 0;
    if (uname(&u) == 0)
        sscanf(u.release, "%d.%d.%d", &kmaj, &kmin, &kpatch);
    g_kernel_version = (uint32_t)((kmaj << 16) | (kmin << 8) | (kpatch > 255 ? 255 : kpatch));

    const char *names = getenv("FAKECAM_DEVICES");
    int n = split(names && *names ? names : "Fake Camera", ';', items, MAX_DEVS);
    int nf = split(getenv("FAKECAM_FORMATS"), ';', fitems, MAX_DEVS);
    int ni = split(getenv("FAKECAM_IMAGES"), ';', iitems, MAX_DEVS);
    int ns = split(getenv("FAKECAM_SIZES"), ';', sitems, MAX_DEVS);
    int nr = split(getenv("FAKECAM_RATES"), ';', ritems, MAX_DEVS);
    e = getenv("FAKECAM_FIRST_INDEX");
    int node = e && *e ? atoi(e) : 0;
    if (node < 0)
        node = 0;

    for (int i = 0; i < n; i++) {
        struct fcdev *d = &g_devs[i];
        memset(d, 0, sizeof *d);
        d->pos = i;
        d->memfd = -1;
        if (items[i][0])
            snprintf(d->name, sizeof d->name, "%.31s", items[i]);
        else
            snprintf(d->name, sizeof d->name, "Fake Camera %d", i);

        int k = split(list_entry(fitems, nf, i, "MJPG,YUYV"), ',', sub, MAX_SIZES);
        for (int j = 0; j < k && d->nfmt < MAX_FMTS; j++) {
            uint32_t fc = parse_fourcc(sub[j]);
            int dup = 0;
            for (int m = 0; m < d->nfmt; m++)
                dup |= d->fourcc[m] == fc;
            if (fc && !dup)
                d->fourcc[d->nfmt++] = fc;
            else if (!fc)
                warnmsg("device %d: unknown format '%s' ignored (MJPG or YUYV)", i, sub[j]);
        }
        if (!d->nfmt)
            d->fourcc[d->nfmt++] = V4L2_PIX_FMT_MJPEG;

        k = split(list_entry(sitems, ns, i, "640x480,1280x720,1920x1080,3840x2160"), ',', sub, MAX_SIZES);
        for (int j = 0; j < k; j++) {
            unsigned w, h;
            if (sscanf(sub[j], "%ux%u", &w, &h) == 2 && w >= 2 && h >= 2 && w <= 8192 && h <= 8192) {
                d->w[d->nsize] = w & ~1u;
                d->h[d->nsize] = h;
                d->nsize++;
            } else {
                warnmsg("device %d: bad size '%s' ignored (WxH)", i, sub[j]);
            }
        }
        if (!d->nsize) {
            d->w[0] = 640;
            d->h[0] = 480;
            d->nsize = 1;
        }

        k = split(list_entry(ritems, nr, i, "30,15"), ',', sub, MAX_SIZES);
        for (int j = 0; j < k && d->nrate < MAX_RATES; j++) {
            int r = atoi(sub[j]);
            if (r >= 1 && r <= 240)
                d->rate[d->nrate++] = (uint32_t)r;
        }
        if (!d->nrate)
            d->rate[d->nrate++] = 30;

        const char *img = list_entry(iitems, ni, i, "");
        absolutize(d->image, img);
        memcpy(d->image_cfg, d->image, sizeof d->image);

        /* the node number: the next one no real device uses */
        char path[64];
        struct stat st;
        for (;;) {
            snprintf(path, sizeof path, "/dev/video%d", node);
            if (REAL(stat)(path, &st) != 0)
                break;
            node++;
        }
        d->node = node++;
        d->present = 1;
        set_default_format(d);
        uint32_t r[MAX_RATES];
        rates_for(d, d->cur_fourcc, d->cur_w, d->cur_h, r);
        d->cur_fps = r[0];
        dbg("device %d '%s' at /dev/video%d", i, d->name, d->node);
    }
    g_ndev = n;

    e = getenv("FAKECAM_CONTROL");
    if (e && *e)
        absolutize(g_control, e);
    pthread_mutex_lock(&g_lock);
    check_control_locked();
    pthread_mutex_unlock(&g_lock);
}

static void atfork_prepare(void) { pthread_mutex_lock(&g_lock); }
static void atfork_release(void) { pthread_mutex_unlock(&g_lock); }

static void init_with_fork_guard(void) {
    /* a fork while another thread holds the lock must not leave the child
     * with it held */
    pthread_atfork(atfork_prepare, atfork_release, atfork_release);
    init_once();
}

static void ensure_init(void) { pthread_once(&g_once, init_with_fork_guard); }

/* ------------------------------------------------------------------------ */
/* Formats.                                                                  */

static int has_fourcc(const struct fcdev *d, uint32_t fc) {
    for (int i = 0; i < d->nfmt; i++)
        if (d->fourcc[i] == fc)
            return 1;
    return 0;
}

static int size_index(const struct fcdev *d, uint32_t w, uint32_t h) {
    for (int i = 0; i < d->nsize; i++)
        if (d->w[i] == w && d->h[i] == h)
            return i;
    return -1;
}

/* Frame rates offered for a format and size, as a UVC camera might: YUYV
 * above 1920x1080 (uncompressed, bandwidth-bound) only at 15 fps or less. */
static int rates_for(const struct fcdev *d, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t *out) {
    int n = 0;
    int limited = fourcc == V4L2_PIX_FMT_YUYV && (uint64_t)w * h > 1920ULL * 1080ULL;
    uint32_t lowest = d->rate[0];
    for (int i = 0; i < d->nrate; i++) {
        if (d->rate[i] < lowest)
            lowest = d->rate[i];
        if (!limited || d->rate[i] <= 15)
            out[n++] = d->rate[i];
    }
    if (!n)
        out[n++] = lowest;
    return n;
}

static size_t sizeimage_for(uint32_t fourcc, uint32_t w, uint32_t h) {
    (void)fourcc;
    return (size_t)w * h * 2; /* YUYV exactly; MJPEG: the largest frame allowed */
}

/* Adjust a requested pix format to one the device offers (never fails). */
static void try_format(const struct fcdev *d, struct v4l2_pix_format *p) {
    uint32_t fc = has_fourcc(d, p->pixelformat) ? p->pixelformat : d->fourcc[0];
    /* nearest size, by the same area measure uvcvideo uses */
    uint64_t best = UINT64_MAX;
    int bi = 0;
    for (int i = 0; i < d->nsize; i++) {
        uint64_t rw = p->width, rh = p->height, fw = d->w[i], fh = d->h[i];
        uint64_t m = (rw < fw ? rw : fw) * (rh < fh ? rh : fh);
        uint64_t dist = rw * rh + fw * fh - 2 * m;
        if (dist < best) {
            best = dist;
            bi = i;
        }
    }
    memset(p, 0, sizeof *p);
    p->width = d->w[bi];
    p->height = d->h[bi];
    p->pixelformat = fc;
    p->field = V4L2_FIELD_NONE;
    p->bytesperline = fc == V4L2_PIX_FMT_YUYV ? p->width * 2 : 0;
    p->sizeimage = (uint32_t)sizeimage_for(fc, p->width, p->height);
    p->colorspace = V4L2_COLORSPACE_SRGB;
    p->priv = V4L2_PIX_FMT_PRIV_MAGIC;
    p->ycbcr_enc = V4L2_YCBCR_ENC_601;
    p->quantization = fc == V4L2_PIX_FMT_YUYV ? V4L2_QUANTIZATION_LIM_RANGE : V4L2_QUANTIZATION_FULL_RANGE;
    p->xfer_func = V4L2_XFER_FUNC_SRGB;
}

static uint32_t nearest_rate(const struct fcdev *d, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t num,
                             uint32_t den) {
    uint32_t r[MAX_RATES];
    int n = rates_for(d, fourcc, w, h, r);
    if (!num || !den)
        return r[0];
    double want = (double)num / den; /* seconds per frame */
    double best = INFINITY;
    uint32_t br = r[0];
    for (int i = 0; i < n; i++) {
        double dist = fabs(1.0 / r[i] - want);
        if (dist < best) {
            best = dist;
            br = r[i];
        }
    }
    return br;
}

/* ------------------------------------------------------------------------ */
/* Pictures: decode, scale, convert, encode.                                 */

static int read_file(const char *path, uint8_t **data, size_t *len) {
    int fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (REAL(fstat)(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (256 << 20)) {
        REAL(close)(fd);
        errno = EINVAL;
        return -1;
    }
    uint8_t *buf = malloc((size_t)st.st_size);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = REAL(read)(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    REAL(close)(fd);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        errno = EIO;
        return -1;
    }
    *data = buf;
    *len = got;
    return 0;
}

/* SMPTE-like colour bars with a grey ramp below, for devices without a picture. */
static uint8_t *colour_bars(int w, int h) {
    static const uint8_t bars[8][3] = {{192, 192, 192}, {192, 192, 0}, {0, 192, 192}, {0, 192, 0},
                                       {192, 0, 192},   {192, 0, 0},   {0, 0, 192},   {16, 16, 16}};
    uint8_t *p = malloc((size_t)w * h * 3);
    if (!p)
        return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *o = p + ((size_t)y * w + x) * 3;
            if (y < h * 3 / 4) {
                memcpy(o, bars[x * 8 / w], 3);
            } else {
                uint8_t v = (uint8_t)(x * 255 / (w - 1));
                o[0] = o[1] = o[2] = v;
            }
        }
    return p;
}

static int load_source_locked(struct fcdev *d) {
    if (d->src_valid && d->src_version == d->image_version)
        return 0;
    free(d->src_rgb);
    d->src_rgb = NULL;
    d->src_valid = 0;
    if (d->image[0]) {
        uint8_t *jpg = NULL;
        size_t len = 0;
        if (read_file(d->image, &jpg, &len) == 0) {
            tjhandle tj = tjInitDecompress();
            int w, h, ss, cs;
            if (tj && tjDecompressHeader3(tj, jpg, (unsigned long)len, &w, &h, &ss, &cs) == 0 && w > 0 && h > 0) {
                uint8_t *rgb = malloc((size_t)w * h * 3);
                if (rgb && tjDecompress2(tj, jpg, (unsigned long)len, rgb, w, 0, h, TJPF_RGB, 0) == 0) {
                    d->src_rgb = rgb;
                    d->src_w = w;
                    d->src_h = h;
                } else {
                    warnmsg("%s: cannot decode (%s); showing colour bars", d->image, tj ? tjGetErrorStr2(tj) : "?");
                    free(rgb);
                }
            } else {
                warnmsg("%s: not a JPEG (%s); showing colour bars", d->image, tj ? tjGetErrorStr2(tj) : "?");
            }
            if (tj)
                tjDestroy(tj);
            free(jpg);
        } else {
            warnmsg("%s: %s; showing colour bars", d->image, strerror(errno));
        }
    }
    if (!d->src_rgb) {
        d->src_w = 1920;
        d->src_h = 1080;
        d->src_rgb = colour_bars(d->src_w, d->src_h);
        if (!d->src_rgb)
            return -1;
    }
    d->src_valid = 1;
    d->src_version = d->image_version;
    return 0;
}

struct taps {
    int n;       /* taps per output sample */
    int *idx;    /* [out * n] */
    float *wt;   /* [out * n] */
};

/* Resampling weights (a triangle filter widened to the scale when shrinking)
 * for out samples over the source interval [c0, c0 + clen) of a line of len. */
static int make_taps(struct taps *t, int len, double c0, double clen, int out) {
    double ratio = clen / out;
    double support = ratio > 1.0 ? ratio : 1.0;
    int n = (int)ceil(support * 2) + 2;
    t->n = n;
    t->idx = malloc(sizeof(int) * (size_t)n * out);
    t->wt = malloc(sizeof(float) * (size_t)n * out);
    if (!t->idx || !t->wt)
        return -1;
    for (int o = 0; o < out; o++) {
        double centre = c0 + (o + 0.5) * ratio;
        int left = (int)floor(centre - support);
        double sum = 0;
        for (int k = 0; k < n; k++) {
            int i = left + k;
            double w = 1.0 - fabs((i + 0.5 - centre) / support);
            if (w < 0)
                w = 0;
            t->idx[o * n + k] = i < 0 ? 0 : i >= len ? len - 1 : i;
            t->wt[o * n + k] = (float)w;
            sum += w;
        }
        for (int k = 0; k < n; k++)
            t->wt[o * n + k] = sum > 0 ? (float)(t->wt[o * n + k] / sum) : (k == 0 ? 1.0f : 0.0f);
    }
    return 0;
}

static void free_taps(struct taps *t) {
    free(t->idx);
    free(t->wt);
}

/* Scale to cover dw x dh, cropping the centre (as a sensor crop would). */
static uint8_t *scale_rgb(const uint8_t *src, int sw, int sh, int dw, int dh) {
    double scale = fmax((double)dw / sw, (double)dh / sh);
    double cw = dw / scale, ch = dh / scale;
    double cx = (sw - cw) / 2, cy = (sh - ch) / 2;
    struct taps tx = {0}, ty = {0};
    uint8_t *dst = malloc((size_t)dw * dh * 3);
    float *tmp = malloc(sizeof(float) * (size_t)dw * sh * 3);
    if (!dst || !tmp || make_taps(&tx, sw, cx, cw, dw) || make_taps(&ty, sh, cy, ch, dh)) {
        free(dst);
        free(tmp);
        free_taps(&tx);
        free_taps(&ty);
        return NULL;
    }
    /* rows actually needed */
    int rmin = sh, rmax = -1;
    for (int i = 0; i < dh * ty.n; i++) {
        if (ty.wt[i] != 0 && ty.idx[i] < rmin)
            rmin = ty.idx[i];
        if (ty.wt[i] != 0 && ty.idx[i] > rmax)
            rmax = ty.idx[i];
    }
    for (int y = rmin; y <= rmax; y++) {
        const uint8_t *row = src + (size_t)y * sw * 3;
        float *trow = tmp + (size_t)y * dw * 3;
        for (int x = 0; x < dw; x++) {
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < tx.n; k++) {
                float w = tx.wt[x * tx.n + k];
                const uint8_t *p = row + (size_t)tx.idx[x * tx.n + k] * 3;
                r += w * p[0];
                g += w * p[1];
                b += w * p[2];
            }
            trow[x * 3] = r;
            trow[x * 3 + 1] = g;
            trow[x * 3 + 2] = b;
        }
    }
    for (int y = 0; y < dh; y++) {
        uint8_t *orow = dst + (size_t)y * dw * 3;
        for (int x = 0; x < dw * 3; x++) {
            float v = 0;
            for (int k = 0; k < ty.n; k++) {
                float w = ty.wt[y * ty.n + k];
                if (w != 0)
                    v += w * tmp[(size_t)ty.idx[y * ty.n + k] * dw * 3 + x];
            }
            int iv = (int)lrintf(v);
            orow[x] = (uint8_t)(iv < 0 ? 0 : iv > 255 ? 255 : iv);
        }
    }
    free(tmp);
    free_taps(&tx);
    free_taps(&ty);
    return dst;
}

/* RGB8 to YUYV 4:2:2, BT.601 limited range (as UVC cameras deliver). */
static void rgb_to_yuyv(const uint8_t *rgb, int w, int h, uint8_t *out) {
    for (int y = 0; y < h; y++) {
        const uint8_t *p = rgb + (size_t)y * w * 3;
        uint8_t *o = out + (size_t)y * w * 2;
        for (int x = 0; x < w; x += 2, p += 6, o += 4) {
            int r0 = p[0], g0 = p[1], b0 = p[2], r1 = p[3], g1 = p[4], b1 = p[5];
            int y0 = ((66 * r0 + 129 * g0 + 25 * b0 + 128) >> 8) + 16;
            int y1 = ((66 * r1 + 129 * g1 + 25 * b1 + 128) >> 8) + 16;
            int r = (r0 + r1 + 1) >> 1, g = (g0 + g1 + 1) >> 1, b = (b0 + b1 + 1) >> 1;
            int u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
            int v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
            o[0] = (uint8_t)y0;
            o[1] = (uint8_t)u;
            o[2] = (uint8_t)y1;
            o[3] = (uint8_t)v;
        }
    }
}

/* Make the frame for the negotiated format once (per format, size, picture). */
static int prepare_locked(struct fcdev *d) {
    if (load_source_locked(d))
        return -1;
    if (d->prep_valid && d->prep_fourcc == d->cur_fourcc && d->prep_w == d->cur_w && d->prep_h == d->cur_h &&
        d->prep_version == d->image_version)
        return 0;
    uint64_t t0 = mono_ns();
    free(d->prep);
    d->prep = NULL;
    d->prep_valid = 0;
    uint8_t *rgb = scale_rgb(d->src_rgb, d->src_w, d->src_h, (int)d->cur_w, (int)d->cur_h);
    if (!rgb)
        return -1;
    if (d->cur_fourcc == V4L2_PIX_FMT_YUYV) {
        d->prep_len = (size_t)d->cur_w * d->cur_h * 2;
        d->prep = malloc(d->prep_len);
        if (d->prep)
            rgb_to_yuyv(rgb, (int)d->cur_w, (int)d->cur_h, d->prep);
    } else {
        tjhandle tj = tjInitCompress();
        unsigned char *jpg = NULL;
        unsigned long jlen = 0;
        if (tj && tjCompress2(tj, rgb, (int)d->cur_w, 0, (int)d->cur_h, TJPF_RGB, &jpg, &jlen, TJSAMP_422, g_quality,
                              0) == 0) {
            d->prep = malloc(jlen);
            if (d->prep) {
                memcpy(d->prep, jpg, jlen);
                d->prep_len = jlen;
            }
        } else {
            warnmsg("cannot encode a JPEG: %s", tj ? tjGetErrorStr2(tj) : "?");
        }
        if (jpg)
            tjFree(jpg);
        if (tj)
            tjDestroy(tj);
    }
    free(rgb);
    if (!d->prep)
        return -1;
    if (d->prep_len > d->sizeimage && d->sizeimage)
        d->prep_len = d->sizeimage;
    d->prep_fourcc = d->cur_fourcc;
    d->prep_w = d->cur_w;
    d->prep_h = d->cur_h;
    d->prep_version = d->image_version;
    d->prep_valid = 1;
    dbg("video%d: prepared %.4s %ux%u (%zu bytes) in %.1f ms", d->node, (const char *)&d->cur_fourcc, d->cur_w,
        d->cur_h, d->prep_len, (mono_ns() - t0) / 1e6);
    return 0;
}

static uint32_t xorshift(uint32_t *s) {
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Offset of the entropy-coded data of a JPEG (after the SOS header). */
static size_t jpeg_scan_start(const uint8_t *j, size_t len) {
    size_t i = 2;
    while (i + 4 <= len) {
        if (j[i] != 0xFF)
            return 0;
        uint8_t m = j[i + 1];
        size_t seglen = ((size_t)j[i + 2] << 8) | j[i + 3];
        if (m == 0xDA)
            return i + 2 + seglen;
        i += 2 + seglen;
    }
    return 0;
}

/* Copy the prepared frame into buffer idx, corrupting it if asked. Returns
 * bytesused; sets *error_flag for frames a driver would flag. */
static uint32_t fill_buffer_locked(struct fcdev *d, int idx, int *error_flag) {
    uint8_t *dst = d->map + (size_t)idx * d->buflen;
    size_t len = d->prep_len < d->sizeimage ? d->prep_len : d->sizeimage;
    size_t used = len;
    *error_flag = 0;
    memcpy(dst, d->prep, len);
    if (d->corrupt_left > 0) {
        int mode = d->corrupt_mode;
        if (mode == CORRUPT_MIXED)
            mode = CORRUPT_TRUNCATE + (int)(d->corrupt_count % 3);
        d->corrupt_left--;
        d->corrupt_count++;
        uint32_t seed = d->seq * 2654435761u + 1;
        if (d->cur_fourcc == V4L2_PIX_FMT_MJPEG) {
            size_t scan = jpeg_scan_start(dst, len);
            if (scan == 0 || scan + 16 >= len)
                scan = 2;
            switch (mode) {
            case CORRUPT_TRUNCATE: /* the frame stops a third into its scan: no EOI */
                used = scan + (len - scan) / 3;
                break;
            case CORRUPT_GARBAGE: /* SOI, then noise */
                used = len / 2 > 64 ? len / 2 : len;
                for (size_t i = 2; i < used; i++)
                    dst[i] = (uint8_t)xorshift(&seed);
                break;
            default: { /* valid headers, entropy data scrambled: bad Huffman codes */
                size_t a = scan + (len - scan) / 4, b = scan + (len - scan) * 3 / 4;
                for (size_t i = a; i < b && i + 2 < len; i++) {
                    uint8_t v = (uint8_t)xorshift(&seed);
                    dst[i] = v == 0xFF ? 0xFE : v;
                }
                break;
            }
            }
        } else {
            *error_flag = 1;
            switch (mode) {
            case CORRUPT_TRUNCATE:
                used = (len / 2) & ~(size_t)3;
                memset(dst + used, 0, len - used);
                break;
            case CORRUPT_GARBAGE:
                for (size_t i = 0; i < len; i++)
                    dst[i] = (uint8_t)xorshift(&seed);
                break;
            default: {
                size_t a = (len / 3) & ~(size_t)3, b = (len / 2) & ~(size_t)3;
                for (size_t i = a; i < b; i++)
                    dst[i] = (uint8_t)xorshift(&seed);
                break;
            }
            }
        }
        dbg("video%d: frame %u corrupted (mode %d), %d more", d->node, d->seq, mode, d->corrupt_left);
    }
    /* v4l hands the whole buffer to its user, whatever bytesused says: clear
     * what this frame no longer covers, and what an earlier one left */
    size_t hi = len > d->bufs[idx].dirty ? len : d->bufs[idx].dirty;
    if (hi > used)
        memset(dst + used, 0, hi - used);
    d->bufs[idx].dirty = used;
    return (uint32_t)used;
}

/* ------------------------------------------------------------------------ */
/* Control file.                                                             */

static void reset_faults(struct fcdev *d) {
    if (!d->present) {
        d->present = 1;
        set_default_format(d);
        uint32_t r[MAX_RATES];
        rates_for(d, d->cur_fourcc, d->cur_w, d->cur_h, r);
        d->cur_fps = r[0];
    }
    d->stalled = d->busy = d->denied = 0;
    d->slow_ns = 0;
    d->corrupt_left = 0;
    if (strcmp(d->image, d->image_cfg) != 0) {
        memcpy(d->image, d->image_cfg, sizeof d->image);
        d->image_version++;
    }
}

static void free_queue_locked(struct fcdev *d);

static void unplug(struct fcdev *d) {
    if (!d->present)
        return;
    d->present = 0;
    d->generation++;
    /* the queue dies with the device (mappings the application holds stay
     * valid memory); every handle opened before is dead from now on */
    free_queue_locked(d);
}

static void plug(struct fcdev *d) {
    if (d->present)
        return;
    d->present = 1;
    /* a newly plugged camera starts from its default format */
    if (!d->owner) {
        set_default_format(d);
        uint32_t r[MAX_RATES];
        rates_for(d, d->cur_fourcc, d->cur_w, d->cur_h, r);
        d->cur_fps = r[0];
    }
}

static void apply_command(char *line) {
    char *argv[4] = {0};
    int argc = 0;
    char *save = NULL;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    for (char *tok = strtok_r(line, " \t\r", &save); tok && argc < 4; tok = strtok_r(NULL, " \t\r", &save))
        argv[argc++] = tok;
    if (argc == 0)
        return;
    const char *cmd = argv[0];
    int lo = 0, hi = g_ndev - 1;
    if (argc >= 2) {
        if (!strcmp(argv[1], "*") || !strcmp(argv[1], "all")) {
            /* every device */
        } else {
            char *end;
            long v = strtol(argv[1], &end, 10);
            if (*end || v < 0 || v >= g_ndev) {
                warnmsg("control: no device '%s' in \"%s\"", argv[1], cmd);
                return;
            }
            lo = hi = (int)v;
        }
    } else if (strcmp(cmd, "reset") != 0) {
        warnmsg("control: \"%s\" needs a device number", cmd);
        return;
    }
    for (int i = lo; i <= hi; i++) {
        struct fcdev *d = &g_devs[i];
        if (!strcmp(cmd, "unplug"))
            unplug(d);
        else if (!strcmp(cmd, "plug"))
            plug(d);
        else if (!strcmp(cmd, "stall"))
            d->stalled = 1;
        else if (!strcmp(cmd, "unstall")) {
            if (d->stalled && d->streaming)
                d->next_due = mono_ns() + 1000000000ULL / d->cur_fps;
            d->stalled = 0;
        } else if (!strcmp(cmd, "busy"))
            d->busy = 1;
        else if (!strcmp(cmd, "unbusy"))
            d->busy = 0;
        else if (!strcmp(cmd, "deny"))
            d->denied = 1;
        else if (!strcmp(cmd, "allow"))
            d->denied = 0;
        else if (!strcmp(cmd, "slow")) {
            long ms = argc >= 3 ? strtol(argv[2], NULL, 10) : 0;
            d->slow_ns = ms > 0 ? (uint64_t)ms * 1000000ULL : 0;
        } else if (!strcmp(cmd, "corrupt")) {
            long nfr = argc >= 3 ? strtol(argv[2], NULL, 10) : 1;
            d->corrupt_left = nfr > 0 ? (int)nfr : 0;
            d->corrupt_mode = CORRUPT_MIXED;
            if (argc >= 4) {
                if (!strcmp(argv[3], "truncate"))
                    d->corrupt_mode = CORRUPT_TRUNCATE;
                else if (!strcmp(argv[3], "garbage"))
                    d->corrupt_mode = CORRUPT_GARBAGE;
                else if (!strcmp(argv[3], "huffman"))
                    d->corrupt_mode = CORRUPT_HUFFMAN;
                else if (strcmp(argv[3], "mixed") != 0)
                    warnmsg("control: unknown corruption '%s' (truncate, garbage, huffman, mixed)", argv[3]);
            }
            d->corrupt_count = 0;
        } else if (!strcmp(cmd, "image")) {
            if (argc < 3) {
                warnmsg("control: image needs a path");
                return;
            }
            absolutize(d->image, argv[2]);
            d->image_version++;
        } else if (!strcmp(cmd, "reset"))
            reset_faults(d);
        else {
            warnmsg("control: unknown command \"%s\"", cmd);
            return;
        }
    }
    dbg("control: %s %s%s%s", cmd, argv[1] ? argv[1] : "", argv[2] ? " " : "", argv[2] ? argv[2] : "");
}

static void apply_lines(const char *text, size_t len) {
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n')
            continue;
        size_t n = i - start;
        char line[PATH_MAX + 64];
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, text + start, n);
        line[n] = 0;
        apply_command(line);
        start = i + 1;
    }
}

/* Re-read the control file when it changed. Appended lines are applied;
 * a file rewritten in any other way is applied again from its first line. */
static void check_control_locked(void) {
    if (!g_control[0])
        return;
    struct stat st;
    if (REAL(stat)(g_control, &st) != 0) {
        g_ctl.seen = 0;
        return;
    }
    if (g_ctl.seen && st.st_dev == g_ctl.dev && st.st_ino == g_ctl.ino && st.st_size == g_ctl.size &&
        st.st_mtim.tv_sec == g_ctl.mtime.tv_sec && st.st_mtim.tv_nsec == g_ctl.mtime.tv_nsec)
        return;
    uint8_t *data = NULL;
    size_t len = 0;
    if (st.st_size > 0 && read_file(g_control, &data, &len) != 0)
        return;
    int same_file = g_ctl.seen && st.st_dev == g_ctl.dev && st.st_ino == g_ctl.ino;
    g_ctl.seen = 1;
    g_ctl.dev = st.st_dev;
    g_ctl.ino = st.st_ino;
    g_ctl.size = st.st_size;
    g_ctl.mtime = st.st_mtim;
    /* only complete lines count */
    size_t complete = len;
    while (complete && data[complete - 1] != '\n')
        complete--;
    const char *text = data ? (const char *)data : "";
    if (same_file && g_ctl.applied && complete >= g_ctl.applied_len &&
        !memcmp(text, g_ctl.applied, g_ctl.applied_len)) {
        if (complete > g_ctl.applied_len)
            apply_lines(text + g_ctl.applied_len, complete - g_ctl.applied_len); /* appended */
        else if (len == complete)
            apply_lines(text, complete); /* rewritten with the same text: replay */
        /* else only an unfinished line was added: wait for its newline */
    } else {
        apply_lines(text, complete);
    }
    free(g_ctl.applied);
    g_ctl.applied = malloc(complete + 1);
    if (g_ctl.applied) {
        memcpy(g_ctl.applied, text, complete);
        g_ctl.applied_len = complete;
    } else {
        g_ctl.applied_len = 0;
    }
    free(data);
}

/* ------------------------------------------------------------------------ */
/* Paths.                                                                    */

static struct fcdev *dev_by_node(int node) {
    for (int i = 0; i < g_ndev; i++)
        if (g_devs[i].node == node)
            return &g_devs[i];
    return NULL;
}

static int parse_uint(const char **p) {
    if (**p < '0' || **p > '9')
        return -1;
    long v = 0;
    while (**p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        if (v > 1000000)
            return -1;
        (*p)++;
    }
    return (int)v;
}

/* "/dev/videoN" of a fake device (present or not). */
static struct fcdev *dev_path(const char *path) {
    if (!path || strncmp(path, "/dev/video", 10) != 0)
        return NULL;
    const char *p = path + 10;
    int n = parse_uint(&p);
    if (n < 0 || *p)
        return NULL;
    ensure_init();
    return dev_by_node(n);
}

enum { SYS_NONE = 0, SYS_CLASSDIR, SYS_DEVDIR, SYS_FILE };
static const char *const sys_files[] = {"name", "index", "dev", "uevent"};

/* /sys/class/video4linux[/videoN[/file]] and /sys/dev/char/81:N[/file] */
static int sys_path(const char *path, struct fcdev **dev, int *file) {
    static const char pre[] = "/sys/class/video4linux";
    static const char chr[] = "/sys/dev/char/";
    const char *p;
    if (!path)
        return SYS_NONE;
    if (!strncmp(path, pre, sizeof pre - 1)) {
        p = path + sizeof pre - 1;
        if (*p == 0 || (p[0] == '/' && p[1] == 0))
            return SYS_CLASSDIR;
        if (strncmp(p, "/video", 6) != 0)
            return SYS_NONE;
        p += 6;
    } else if (!strncmp(path, chr, sizeof chr - 1)) {
        p = path + sizeof chr - 1;
        if (parse_uint(&p) != VIDEO_MAJOR || *p != ':')
            return SYS_NONE;
        p++;
    } else {
        return SYS_NONE;
    }
    int n = parse_uint(&p);
    if (n < 0)
        return SYS_NONE;
    ensure_init();
    struct fcdev *d = dev_by_node(n);
    if (!d)
        return SYS_NONE;
    *dev = d;
    if (*p == 0 || (p[0] == '/' && p[1] == 0))
        return SYS_DEVDIR;
    if (*p != '/')
        return SYS_NONE;
    p++;
    for (int i = 0; i < (int)(sizeof sys_files / sizeof *sys_files); i++)
        if (!strcmp(p, sys_files[i])) {
            *file = i;
            return SYS_FILE;
        }
    return SYS_NONE;
}

static int sys_file_text(const struct fcdev *d, int file, char *buf, size_t n) {
    switch (file) {
    case 0:
        return snprintf(buf, n, "%s\n", d->name);
    case 1:
        return snprintf(buf, n, "0\n");
    case 2:
        return snprintf(buf, n, "%d:%d\n", VIDEO_MAJOR, d->node);
    default:
        return snprintf(buf, n, "MAJOR=%d\nMINOR=%d\nDEVNAME=video%d\n", VIDEO_MAJOR, d->node, d->node);
    }
}

static int open_sys_file(struct fcdev *d, int file, int flags) {
    if ((flags & O_ACCMODE) != O_RDONLY) {
        errno = EACCES;
        return -1;
    }
    char text[128];
    int n = sys_file_text(d, file, text, sizeof text);
    int fd = memfd_create("fakecam-sysfs", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
    if (fd < 0)
        return -1;
    if (write(fd, text, (size_t)n) != n || lseek(fd, 0, SEEK_SET) != 0) {
        int e = errno;
        REAL(close)(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* A path we answer for: returns 1 and the result in *ret, or 0 to pass on. */
static int maybe_open(const char *path, int flags, int *ret) {
    struct fcdev *d = dev_path(path);
    if (d) {
        pthread_mutex_lock(&g_lock);
        check_control_locked();
        int err = 0;
        if (!d->present)
            err = ENOENT;
        else if (d->denied)
            err = EACCES;
        else if (d->busy)
            err = EBUSY;
        else if (flags & O_DIRECTORY)
            err = ENOTDIR;
        if (err) {
            pthread_mutex_unlock(&g_lock);
            dbg("open %s: %s", path, strerror(err));
            errno = err;
            *ret = -1;
            return 1;
        }
        int efd = eventfd(0, ((flags & O_CLOEXEC) ? EFD_CLOEXEC : 0) | ((flags & O_NONBLOCK) ? EFD_NONBLOCK : 0));
        if (efd < 0 || efd >= MAX_FDS) {
            if (efd >= 0)
                REAL(close)(efd);
            pthread_mutex_unlock(&g_lock);
            errno = EMFILE;
            *ret = -1;
            return 1;
        }
        struct fcfile *f = calloc(1, sizeof *f);
        if (!f) {
            REAL(close)(efd);
            pthread_mutex_unlock(&g_lock);
            errno = ENOMEM;
            *ret = -1;
            return 1;
        }
        f->dev = d;
        f->generation = d->generation;
        f->refs = 1;
        f->fd = efd;
        __atomic_store_n(&g_fds[efd], f, __ATOMIC_RELEASE);
        __atomic_add_fetch(&g_nfake_fds, 1, __ATOMIC_ACQ_REL);
        pthread_mutex_unlock(&g_lock);
        dbg("open %s -> fd %d%s", path, efd, (flags & O_NONBLOCK) ? " (non-blocking)" : "");
        *ret = efd;
        return 1;
    }
    int file = 0;
    struct fcdev *sd = NULL;
    int k = sys_path(path, &sd, &file);
    if (k == SYS_FILE) {
        pthread_mutex_lock(&g_lock);
        check_control_locked();
        int present = sd->present;
        pthread_mutex_unlock(&g_lock);
        if (!present) {
            errno = ENOENT;
            *ret = -1;
            return 1;
        }
        *ret = open_sys_file(sd, file, flags);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* open / close / dup.                                                       */

static int get_mode(int flags, va_list ap) {
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

FC_EXPORT int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int mode = get_mode(flags, ap);
    va_end(ap);
    int r;
    if (maybe_open(path, flags, &r))
        return r;
    return REAL(open)(path, flags, mode);
}

FC_EXPORT int open64(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int mode = get_mode(flags, ap);
    va_end(ap);
    int r;
    if (maybe_open(path, flags, &r))
        return r;
    return REAL(open64)(path, flags, mode);
}

FC_EXPORT int openat(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int mode = get_mode(flags, ap);
    va_end(ap);
    int r;
    if (is_abs(path) && maybe_open(path, flags, &r))
        return r;
    return REAL(openat)(dirfd, path, flags, mode);
}

FC_EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int mode = get_mode(flags, ap);
    va_end(ap);
    int r;
    if (is_abs(path) && maybe_open(path, flags, &r))
        return r;
    return REAL(openat64)(dirfd, path, flags, mode);
}

FC_EXPORT int __open_2(const char *path, int flags) {
    int r;
    if (maybe_open(path, flags, &r))
        return r;
    return REAL(__open_2)(path, flags);
}

FC_EXPORT int __open64_2(const char *path, int flags) {
    int r;
    if (maybe_open(path, flags, &r))
        return r;
    return REAL(__open64_2)(path, flags);
}

FC_EXPORT int __openat_2(int dirfd, const char *path, int flags) {
    int r;
    if (is_abs(path) && maybe_open(path, flags, &r))
        return r;
    return REAL(__openat_2)(dirfd, path, flags);
}

FC_EXPORT int __openat64_2(int dirfd, const char *path, int flags) {
    int r;
    if (is_abs(path) && maybe_open(path, flags, &r))
        return r;
    return REAL(__openat64_2)(dirfd, path, flags);
}

static FILE *maybe_fopen(const char *path, const char *mode, int *handled) {
    int file = 0;
    struct fcdev *d = NULL;
    *handled = 0;
    if (sys_path(path, &d, &file) != SYS_FILE)
        return NULL;
    *handled = 1;
    if (strpbrk(mode, "wa+")) {
        errno = EACCES;
        return NULL;
    }
    int fd = -1;
    maybe_open(path, O_RDONLY | (strchr(mode, 'e') ? O_CLOEXEC : 0), &fd);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "r");
    if (!fp)
        REAL(close)(fd);
    return fp;
}

FC_EXPORT FILE *fopen(const char *path, const char *mode) {
    int handled;
    FILE *fp = maybe_fopen(path, mode, &handled);
    return handled ? fp : REAL(fopen)(path, mode);
}

FC_EXPORT FILE *fopen64(const char *path, const char *mode) {
    int handled;
    FILE *fp = maybe_fopen(path, mode, &handled);
    return handled ? fp : REAL(fopen64)(path, mode);
}

static void free_queue_locked(struct fcdev *d) {
    if (d->map)
        munmap(d->map, d->buflen * (size_t)d->nbufs);
    if (d->memfd >= 0)
        REAL(close)(d->memfd);
    d->map = NULL;
    d->memfd = -1;
    d->nbufs = 0;
    d->qcount = d->qhead = 0;
    d->streaming = 0;
    d->owner = NULL;
    memset(d->bufs, 0, sizeof d->bufs);
}

static void epoll_forget_fd_locked(int fd);

/* Forget fd as a fake fd (called before the real close). */
static void release_fd(int fd) {
    if (!fake_file(fd))
        return;
    pthread_mutex_lock(&g_lock);
    struct fcfile *f = g_fds[fd];
    if (f) {
        __atomic_store_n(&g_fds[fd], NULL, __ATOMIC_RELEASE);
        __atomic_sub_fetch(&g_nfake_fds, 1, __ATOMIC_ACQ_REL);
        epoll_forget_fd_locked(fd);
        if (--f->refs == 0) {
            if (f->dev->owner == f)
                free_queue_locked(f->dev);
            free(f);
        } else if (f->fd == fd) {
            for (int i = 0; i < MAX_FDS; i++)
                if (g_fds[i] == f) {
                    f->fd = i;
                    break;
                }
        }
        dbg("close fd %d", fd);
    }
    pthread_mutex_unlock(&g_lock);
}

/* An epoll fd being closed: forget the fake fds it watched. */
static void release_epfd(int fd) {
    if (!__atomic_load_n(&g_epolls, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&g_lock);
    for (struct fcepoll **pp = &g_epolls; *pp; pp = &(*pp)->next)
        if ((*pp)->epfd == fd) {
            struct fcepoll *p = *pp;
            *pp = p->next;
            free(p);
            break;
        }
    pthread_mutex_unlock(&g_lock);
}

FC_EXPORT int close(int fd) {
    release_fd(fd);
    release_epfd(fd);
    return REAL(close)(fd);
}

FC_EXPORT int close_range(unsigned first, unsigned last, int flags) {
    if (any_fake() && !(flags & CLOSE_RANGE_CLOEXEC))
        for (unsigned fd = first; fd <= last && fd < MAX_FDS; fd++)
            release_fd((int)fd);
    if (!REAL(close_range)) {
        errno = ENOSYS;
        return -1;
    }
    return REAL(close_range)(first, last, flags);
}

static int track_dup(int oldfd, int newfd) {
    if (newfd < 0 || newfd == oldfd)
        return newfd;
    struct fcfile *f = fake_file(oldfd);
    if (!f || newfd >= MAX_FDS)
        return newfd;
    pthread_mutex_lock(&g_lock);
    if (g_fds[oldfd] == f && !g_fds[newfd]) {
        f->refs++;
        __atomic_store_n(&g_fds[newfd], f, __ATOMIC_RELEASE);
        __atomic_add_fetch(&g_nfake_fds, 1, __ATOMIC_ACQ_REL);
    }
    pthread_mutex_unlock(&g_lock);
    return newfd;
}

FC_EXPORT int dup(int fd) { return track_dup(fd, REAL(dup)(fd)); }

FC_EXPORT int dup2(int fd, int fd2) {
    if (fd != fd2)
        release_fd(fd2);
    return track_dup(fd, REAL(dup2)(fd, fd2));
}

FC_EXPORT int dup3(int fd, int fd2, int flags) {
    if (fd != fd2)
        release_fd(fd2);
    return track_dup(fd, REAL(dup3)(fd, fd2, flags));
}

/* ------------------------------------------------------------------------ */
/* Streaming.                                                                */

static uint64_t interval_ns(const struct fcdev *d) { return 1000000000ULL / (d->cur_fps ? d->cur_fps : 30); }

static int nonblocking(const struct fcfile *f) {
    int fl = fcntl(f->fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}

/* Is a frame ready for f now? Else, when the next one could be (*wake). */
static int frame_ready_locked(struct fcdev *d, uint64_t now, uint64_t *wake) {
    if (!d->streaming || d->stalled || d->qcount == 0)
        return 0;
    if (now >= d->next_due)
        return 1;
    if (wake && d->next_due < *wake)
        *wake = d->next_due;
    return 0;
}

static void fill_v4l2_buffer(const struct fcdev *d, int idx, struct v4l2_buffer *b) {
    uint32_t type = b->type;
    memset(b, 0, sizeof *b);
    b->index = (uint32_t)idx;
    b->type = type;
    b->memory = V4L2_MEMORY_MMAP;
    b->length = (uint32_t)d->sizeimage;
    b->m.offset = (uint32_t)(d->buflen * (size_t)idx);
    b->field = V4L2_FIELD_NONE;
    b->bytesused = d->bufs[idx].bytesused;
    b->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_TSTAMP_SRC_SOE;
    if (d->bufs[idx].mapped)
        b->flags |= V4L2_BUF_FLAG_MAPPED;
    if (d->bufs[idx].queued)
        b->flags |= V4L2_BUF_FLAG_QUEUED;
}

static int dqbuf_locked(struct fcfile *f, struct v4l2_buffer *b) {
    struct fcdev *d = f->dev;
    if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->memory != V4L2_MEMORY_MMAP)
        return EINVAL;
    if (d->owner && d->owner != f)
        return EBUSY;
    for (;;) {
        check_control_locked();
        if (!file_alive(f))
            return ENODEV;
        if (!d->streaming)
            return EINVAL;
        uint64_t now = mono_ns();
        uint64_t wake = now + SLICE_NS;
        if (frame_ready_locked(d, now, &wake))
            break;
        if (nonblocking(f))
            return EAGAIN;
        pthread_mutex_unlock(&g_lock);
        sleep_until(wake);
        pthread_mutex_lock(&g_lock);
    }
    if (prepare_locked(d) != 0)
        return ENOMEM;
    uint64_t now = mono_ns();
    int idx = d->q[d->qhead];
    d->qhead = (d->qhead + 1) % MAX_BUFS;
    d->qcount--;
    d->bufs[idx].queued = 0;
    int err_flag = 0;
    d->bufs[idx].bytesused = fill_buffer_locked(d, idx, &err_flag);
    fill_v4l2_buffer(d, idx, b);
    b->flags |= V4L2_BUF_FLAG_DONE;
    if (err_flag)
        b->flags |= V4L2_BUF_FLAG_ERROR;
    b->sequence = d->seq;
    b->timestamp.tv_sec = (time_t)(d->next_due / 1000000000ULL);
    b->timestamp.tv_usec = (suseconds_t)((d->next_due % 1000000000ULL) / 1000);
    /* the next frame; a consumer that fell behind loses frames, as with a
     * real camera whose queue ran dry */
    uint64_t iv = interval_ns(d);
    d->seq++;
    d->next_due += iv + d->slow_ns;
    if (now > d->next_due + iv) {
        uint64_t missed = (now - d->next_due) / (iv + d->slow_ns);
        d->seq += (uint32_t)missed;
        d->next_due += missed * (iv + d->slow_ns);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* ioctl.                                                                    */

static const char *ioctl_name(unsigned long req) {
    switch (req) {
#define N(x)                                                                                                           \
    case x:                                                                                                            \
        return #x;
        N(VIDIOC_QUERYCAP) N(VIDIOC_ENUM_FMT) N(VIDIOC_G_FMT) N(VIDIOC_S_FMT) N(VIDIOC_TRY_FMT) N(VIDIOC_REQBUFS)
        N(VIDIOC_QUERYBUF) N(VIDIOC_QBUF) N(VIDIOC_DQBUF) N(VIDIOC_STREAMON) N(VIDIOC_STREAMOFF) N(VIDIOC_G_PARM)
        N(VIDIOC_S_PARM) N(VIDIOC_ENUM_FRAMESIZES) N(VIDIOC_ENUM_FRAMEINTERVALS) N(VIDIOC_QUERYCTRL)
        N(VIDIOC_QUERY_EXT_CTRL) N(VIDIOC_G_CTRL) N(VIDIOC_S_CTRL) N(VIDIOC_G_EXT_CTRLS) N(VIDIOC_S_EXT_CTRLS)
        N(VIDIOC_TRY_EXT_CTRLS) N(VIDIOC_QUERYMENU) N(VIDIOC_ENUMINPUT) N(VIDIOC_G_INPUT) N(VIDIOC_S_INPUT)
        N(VIDIOC_G_STD) N(VIDIOC_S_STD) N(VIDIOC_ENUMSTD) N(VIDIOC_QUERYSTD) N(VIDIOC_G_PRIORITY)
        N(VIDIOC_S_PRIORITY) N(VIDIOC_CREATE_BUFS) N(VIDIOC_EXPBUF) N(VIDIOC_G_SELECTION) N(VIDIOC_S_SELECTION)
        N(VIDIOC_CROPCAP) N(VIDIOC_G_CROP) N(VIDIOC_SUBSCRIBE_EVENT) N(VIDIOC_UNSUBSCRIBE_EVENT) N(VIDIOC_DQEVENT)
        N(VIDIOC_LOG_STATUS) N(VIDIOC_ENUMAUDIO) N(VIDIOC_G_AUDIO) N(VIDIOC_G_TUNER) N(VIDIOC_ENUMOUTPUT)
        N(VIDIOC_G_OUTPUT) N(VIDIOC_G_JPEGCOMP) N(VIDIOC_G_DV_TIMINGS) N(VIDIOC_QUERY_DV_TIMINGS)
        N(VIDIOC_ENUM_DV_TIMINGS) N(VIDIOC_DV_TIMINGS_CAP) N(VIDIOC_PREPARE_BUF) N(VIDIOC_G_FBUF)
        N(VIDIOC_G_EDID) N(VIDIOC_G_ENC_INDEX) N(VIDIOC_DECODER_CMD) N(VIDIOC_TRY_DECODER_CMD)
        N(VIDIOC_ENCODER_CMD) N(VIDIOC_TRY_ENCODER_CMD) N(VIDIOC_G_SLICED_VBI_CAP)
#undef N
    default:
        return NULL;
    }
}

static int do_ioctl_locked(struct fcfile *f, unsigned long req, void *arg) {
    struct fcdev *d = f->dev;
    check_control_locked();
    if (!file_alive(f))
        return ENODEV;
    if (!arg && _IOC_SIZE(req) && (_IOC_DIR(req) != _IOC_NONE))
        return EFAULT;

    switch (req) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *c = arg;
        memset(c, 0, sizeof *c);
        snprintf((char *)c->driver, sizeof c->driver, "fakecam");
        snprintf((char *)c->card, sizeof c->card, "%s", d->name);
        snprintf((char *)c->bus_info, sizeof c->bus_info, "platform:fakecam-%d", d->pos);
        c->version = g_kernel_version;
        c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT;
        c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
        return 0;
    }
    case VIDIOC_ENUM_FMT: {
        struct v4l2_fmtdesc *fd = arg;
        if (fd->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || fd->index >= (uint32_t)d->nfmt)
            return EINVAL;
        uint32_t idx = fd->index, type = fd->type;
        memset(fd, 0, sizeof *fd);
        fd->index = idx;
        fd->type = type;
        fd->pixelformat = d->fourcc[idx];
        if (fd->pixelformat == V4L2_PIX_FMT_MJPEG) {
            fd->flags = V4L2_FMT_FLAG_COMPRESSED;
            snprintf((char *)fd->description, sizeof fd->description, "Motion-JPEG");
        } else {
            snprintf((char *)fd->description, sizeof fd->description, "YUYV 4:2:2");
        }
        return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
        struct v4l2_frmsizeenum *fs = arg;
        if (!has_fourcc(d, fs->pixel_format) || fs->index >= (uint32_t)d->nsize)
            return EINVAL;
        uint32_t idx = fs->index, pf = fs->pixel_format;
        memset(fs, 0, sizeof *fs);
        fs->index = idx;
        fs->pixel_format = pf;
        fs->type = V4L2_FRMSIZE_TYPE_DISCRETE;
        fs->discrete.width = d->w[idx];
        fs->discrete.height = d->h[idx];
        return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
        struct v4l2_frmivalenum *fi = arg;
        uint32_t r[MAX_RATES];
        if (!has_fourcc(d, fi->pixel_format) || size_index(d, fi->width, fi->height) < 0)
            return EINVAL;
        int n = rates_for(d, fi->pixel_format, fi->width, fi->height, r);
        if (fi->index >= (uint32_t)n)
            return EINVAL;
        uint32_t idx = fi->index, pf = fi->pixel_format, w = fi->width, h = fi->height;
        memset(fi, 0, sizeof *fi);
        fi->index = idx;
        fi->pixel_format = pf;
        fi->width = w;
        fi->height = h;
        fi->type = V4L2_FRMIVAL_TYPE_DISCRETE;
        fi->discrete.numerator = 1;
        fi->discrete.denominator = r[idx];
        return 0;
    }
    case VIDIOC_G_FMT:
    case VIDIOC_S_FMT:
    case VIDIOC_TRY_FMT: {
        struct v4l2_format *fm = arg;
        if (fm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
            return EINVAL;
        if (req == VIDIOC_G_FMT) {
            fm->fmt.pix.pixelformat = d->cur_fourcc;
            fm->fmt.pix.width = d->cur_w;
            fm->fmt.pix.height = d->cur_h;
            try_format(d, &fm->fmt.pix);
            return 0;
        }
        try_format(d, &fm->fmt.pix);
        if (req == VIDIOC_S_FMT) {
            int same = fm->fmt.pix.pixelformat == d->cur_fourcc && fm->fmt.pix.width == d->cur_w &&
                       fm->fmt.pix.height == d->cur_h;
            if (d->nbufs > 0 && !same)
                return EBUSY;
            d->cur_fourcc = fm->fmt.pix.pixelformat;
            d->cur_w = fm->fmt.pix.width;
            d->cur_h = fm->fmt.pix.height;
            /* keep the frame rate if the new format offers it, else the nearest */
            d->cur_fps = nearest_rate(d, d->cur_fourcc, d->cur_w, d->cur_h, 1, d->cur_fps);
            dbg("video%d: format %.4s %ux%u @ %u fps", d->node, (const char *)&d->cur_fourcc, d->cur_w, d->cur_h,
                d->cur_fps);
        }
        return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
        struct v4l2_streamparm *sp = arg;
        if (sp->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
            return EINVAL;
        if (req == VIDIOC_S_PARM) {
            if (d->streaming)
                return EBUSY;
            d->cur_fps = nearest_rate(d, d->cur_fourcc, d->cur_w, d->cur_h, sp->parm.capture.timeperframe.numerator,
                                      sp->parm.capture.timeperframe.denominator);
            dbg("video%d: %u fps", d->node, d->cur_fps);
        }
        memset(&sp->parm, 0, sizeof sp->parm);
        sp->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
        sp->parm.capture.timeperframe.numerator = 1;
        sp->parm.capture.timeperframe.denominator = d->cur_fps;
        return 0;
    }
    case VIDIOC_REQBUFS: {
        struct v4l2_requestbuffers *rb = arg;
        if (rb->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || rb->memory != V4L2_MEMORY_MMAP)
            return EINVAL;
        if (d->owner && d->owner != f)
            return EBUSY;
        if (d->streaming)
            return EBUSY;
        free_queue_locked(d);
        rb->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP;
        memset(rb->reserved, 0, sizeof rb->reserved);
        rb->flags = 0;
        if (rb->count == 0)
            return 0;
        uint32_t count = rb->count < 2 ? 2 : rb->count > MAX_BUFS ? MAX_BUFS : rb->count;
        long page = sysconf(_SC_PAGESIZE);
        d->sizeimage = sizeimage_for(d->cur_fourcc, d->cur_w, d->cur_h);
        d->buflen = (d->sizeimage + (size_t)page - 1) & ~((size_t)page - 1);
        int mfd = memfd_create("fakecam-buffers", MFD_CLOEXEC);
        if (mfd < 0)
            return ENOMEM;
        if (ftruncate(mfd, (off_t)(d->buflen * count)) != 0) {
            REAL(close)(mfd);
            return ENOMEM;
        }
        void *m = REAL(mmap)(NULL, d->buflen * count, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
        if (m == MAP_FAILED) {
            REAL(close)(mfd);
            return ENOMEM;
        }
        d->memfd = mfd;
        d->map = m;
        d->nbufs = (int)count;
        d->owner = f;
        rb->count = count;
        dbg("video%d: %u buffers of %zu bytes", d->node, count, d->sizeimage);
        return 0;
    }
    case VIDIOC_QUERYBUF:
    case VIDIOC_QBUF: {
        struct v4l2_buffer *b = arg;
        if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->index >= (uint32_t)d->nbufs)
            return EINVAL;
        if (d->owner != f)
            return EBUSY;
        if (req == VIDIOC_QBUF) {
            if (b->memory != V4L2_MEMORY_MMAP || d->bufs[b->index].queued)
                return EINVAL;
            d->bufs[b->index].queued = 1;
            d->q[(d->qhead + d->qcount) % MAX_BUFS] = (int)b->index;
            d->qcount++;
        }
        fill_v4l2_buffer(d, (int)b->index, b);
        return 0;
    }
    case VIDIOC_DQBUF:
        return dqbuf_locked(f, arg);
    case VIDIOC_STREAMON:
    case VIDIOC_STREAMOFF: {
        int type = *(int *)arg;
        if (type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
            return EINVAL;
        if (d->owner && d->owner != f)
            return EBUSY;
        if (req == VIDIOC_STREAMON) {
            if (!d->nbufs)
                return EINVAL;
            if (d->streaming)
                return 0;
            d->sizeimage = sizeimage_for(d->cur_fourcc, d->cur_w, d->cur_h);
            if (prepare_locked(d) != 0)
                return ENOMEM;
            d->streaming = 1;
            d->seq = 0;
            d->next_due = mono_ns() + interval_ns(d) + d->slow_ns;
            dbg("video%d: stream on", d->node);
        } else {
            d->streaming = 0;
            for (int i = 0; i < d->nbufs; i++)
                d->bufs[i].queued = 0;
            d->qcount = d->qhead = 0;
            dbg("video%d: stream off", d->node);
        }
        return 0;
    }
    case VIDIOC_ENUMINPUT: {
        struct v4l2_input *in = arg;
        if (in->index != 0)
            return EINVAL;
        memset(in, 0, sizeof *in);
        snprintf((char *)in->name, sizeof in->name, "Camera 1");
        in->type = V4L2_INPUT_TYPE_CAMERA;
        return 0;
    }
    case VIDIOC_G_INPUT:
        *(int *)arg = 0;
        return 0;
    case VIDIOC_S_INPUT:
        return *(int *)arg == 0 ? 0 : EINVAL;
    case VIDIOC_G_PRIORITY:
        *(uint32_t *)arg = V4L2_PRIORITY_DEFAULT;
        return 0;
    case VIDIOC_S_PRIORITY:
        return 0;
    case VIDIOC_LOG_STATUS:
        return 0;
    /* no controls: every enumeration ends at once */
    case VIDIOC_QUERYCTRL:
    case VIDIOC_QUERY_EXT_CTRL:
    case VIDIOC_QUERYMENU:
    case VIDIOC_G_CTRL:
    case VIDIOC_S_CTRL:
    case VIDIOC_G_EXT_CTRLS:
    case VIDIOC_S_EXT_CTRLS:
    case VIDIOC_TRY_EXT_CTRLS:
        return EINVAL;
    /* a camera: no TV standards, no DV timings, no audio, no tuner */
    case VIDIOC_G_STD:
    case VIDIOC_S_STD:
    case VIDIOC_QUERYSTD:
    case VIDIOC_ENUMSTD:
    case VIDIOC_G_DV_TIMINGS:
    case VIDIOC_S_DV_TIMINGS:
    case VIDIOC_QUERY_DV_TIMINGS:
    case VIDIOC_ENUM_DV_TIMINGS:
    case VIDIOC_DV_TIMINGS_CAP:
        return ENODATA;
    default: {
        const char *n = ioctl_name(req);
        if (n)
            dbg("video%d: %s not supported", d->node, n);
        else
            dbg("video%d: unknown ioctl 0x%08lx (type '%c' nr %lu size %lu)", d->node, req, (int)_IOC_TYPE(req),
                (unsigned long)_IOC_NR(req), (unsigned long)_IOC_SIZE(req));
        return ENOTTY;
    }
    }
}

static int fake_ioctl(int fd, unsigned long req, void *arg) {
    pthread_mutex_lock(&g_lock);
    struct fcfile *f = g_fds[fd];
    if (!f) {
        pthread_mutex_unlock(&g_lock);
        errno = EBADF;
        return -1;
    }
    int err = do_ioctl_locked(f, req, arg);
    pthread_mutex_unlock(&g_lock);
    if (g_debug >= 2) {
        const char *n = ioctl_name(req);
        if (n)
            dbg("fd %d: %s -> %s", fd, n, err ? strerror(err) : "0");
        else
            dbg("fd %d: ioctl 0x%08lx -> %s", fd, req, err ? strerror(err) : "0");
        return err ? (errno = err, -1) : 0;
    }
    if (err) {
        /* enumerations and probes end with EINVAL by design: not worth a line */
        int expected = err == ENOTTY || err == ENODATA || (err == EAGAIN && req == VIDIOC_DQBUF) ||
                       (err == EINVAL && (req == VIDIOC_QUERYCTRL || req == VIDIOC_QUERY_EXT_CTRL ||
                                          req == VIDIOC_QUERYMENU || req == VIDIOC_ENUM_FMT ||
                                          req == VIDIOC_ENUM_FRAMESIZES || req == VIDIOC_ENUM_FRAMEINTERVALS ||
                                          req == VIDIOC_ENUMINPUT || req == VIDIOC_G_FMT || req == VIDIOC_G_PARM ||
                                          req == VIDIOC_G_CTRL || req == VIDIOC_G_EXT_CTRLS ||
                                          req == VIDIOC_TRY_EXT_CTRLS));
        if (g_debug && !expected) {
            const char *n = ioctl_name(req);
            dbg("fd %d: %s -> %s", fd, n ? n : "ioctl", strerror(err));
        }
        errno = err;
        return -1;
    }
    return 0;
}

FC_EXPORT int ioctl(int fd, unsigned long req, ...) {
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fake_file(fd))
        return fake_ioctl(fd, req, arg);
    return REAL(ioctl)(fd, req, arg);
}

/* ------------------------------------------------------------------------ */
/* mmap / read.                                                              */

static void *fake_mmap(int fd, void *addr, size_t len, int prot, int flags, off_t off) {
    pthread_mutex_lock(&g_lock);
    struct fcfile *f = g_fds[fd];
    int err = 0;
    void *r = MAP_FAILED;
    if (!f)
        err = EBADF;
    else if (!file_alive(f))
        err = ENODEV;
    else if (!(flags & MAP_SHARED))
        err = EINVAL;
    else {
        struct fcdev *d = f->dev;
        size_t idx = d->buflen ? (size_t)off / d->buflen : 0;
        if (d->nbufs == 0 || off < 0 || (size_t)off % d->buflen != 0 || idx >= (size_t)d->nbufs || len == 0 ||
            len > d->buflen)
            err = EINVAL;
        else {
            r = REAL(mmap)(addr, len, prot, flags, d->memfd, off);
            if (r == MAP_FAILED)
                err = errno;
            else
                d->bufs[idx].mapped = 1;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (err)
        errno = err;
    return r;
}

FC_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    if (fake_file(fd))
        return fake_mmap(fd, addr, len, prot, flags, off);
    return REAL(mmap)(addr, len, prot, flags, fd, off);
}

FC_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) {
    if (fake_file(fd))
        return fake_mmap(fd, addr, len, prot, flags, (off_t)off);
    return REAL(mmap64)(addr, len, prot, flags, fd, off);
}

/* No read() I/O (a UVC camera offers only streaming). */
static ssize_t fake_read(int fd) {
    struct fcfile *f = fake_file(fd);
    pthread_mutex_lock(&g_lock);
    int alive = f && g_fds[fd] == f && file_alive(f);
    pthread_mutex_unlock(&g_lock);
    errno = alive ? EINVAL : ENODEV;
    return -1;
}

FC_EXPORT ssize_t read(int fd, void *buf, size_t n) {
    if (fake_file(fd))
        return fake_read(fd);
    return REAL(read)(fd, buf, n);
}

FC_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) {
    if (fake_file(fd))
        return fake_read(fd);
    return REAL(__read_chk)(fd, buf, n, buflen);
}

/* ------------------------------------------------------------------------ */
/* syscall(): v4l and libv4l2 issue ioctls (and more) this way.              */

/* The arguments are forwarded as six longs whatever the call: the ones the
 * caller did not pass are whatever its registers and stack slot hold, which
 * the kernel ignores. (ASan would flag the read of that slot.) */
__attribute__((no_sanitize_address)) FC_EXPORT long syscall(long n, ...) {
    va_list ap;
    va_start(ap, n);
    long a0 = va_arg(ap, long), a1 = va_arg(ap, long), a2 = va_arg(ap, long);
    long a3 = va_arg(ap, long), a4 = va_arg(ap, long), a5 = va_arg(ap, long);
    va_end(ap);
    switch (n) {
    case SYS_ioctl:
        if (fake_file((int)a0))
            return fake_ioctl((int)a0, (unsigned long)a1, (void *)a2);
        break;
    case SYS_close:
        release_fd((int)a0);
        release_epfd((int)a0);
        break;
    case SYS_mmap:
        if (fake_file((int)a4)) {
            void *r = fake_mmap((int)a4, (void *)a0, (size_t)a1, (int)a2, (int)a3, (off_t)a5);
            return r == MAP_FAILED ? -1 : (long)r;
        }
        break;
    case SYS_read:
        if (fake_file((int)a0))
            return fake_read((int)a0);
        break;
#ifdef SYS_open
    case SYS_open: {
        int r;
        if (maybe_open((const char *)a0, (int)a1, &r))
            return r;
        break;
    }
#endif
    case SYS_openat: {
        int r;
        const char *p = (const char *)a1;
        if (p && p[0] == '/' && maybe_open(p, (int)a2, &r))
            return r;
        break;
    }
    default:
        break;
    }
    return REAL(syscall)(n, a0, a1, a2, a3, a4, a5);
}

/* ------------------------------------------------------------------------ */
/* poll / select / epoll.                                                    */

/* revents of a fake fd; *wake is lowered to when it may become readable. */
static short fake_revents_locked(int fd, short events, uint64_t now, uint64_t *wake) {
    struct fcfile *f = g_fds[fd];
    if (!f)
        return POLLNVAL;
    if (!file_alive(f))
        return POLLERR | POLLHUP;
    struct fcdev *d = f->dev;
    /* like videobuf2: nothing to wait for when not streaming */
    if (!d->streaming)
        return POLLERR;
    if (frame_ready_locked(d, now, wake))
        return (short)(events & (POLLIN | POLLRDNORM));
    return 0;
}

/* glibc declares poll's array write-only; it is read here */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
static int has_fake(const struct pollfd *fds, nfds_t n) {
    if (!any_fake())
        return 0;
    for (nfds_t i = 0; i < n; i++)
        if (fake_file(fds[i].fd))
            return 1;
    return 0;
}

/* poll over fake and real fds; timeout_ns < 0 waits for ever. */
static int mixed_poll(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *sigmask) {
    struct pollfd stackbuf[64];
    struct pollfd *real = n <= 64 ? stackbuf : malloc(sizeof(struct pollfd) * n);
    if (!real) {
        errno = ENOMEM;
        return -1;
    }
    uint64_t start = mono_ns();
    uint64_t deadline = timeout_ns < 0 ? UINT64_MAX : start + (uint64_t)timeout_ns;
    int result;
    for (;;) {
        int nready = 0;
        uint64_t now = mono_ns();
        uint64_t wake = now + SLICE_NS;
        pthread_mutex_lock(&g_lock);
        check_control_locked();
        for (nfds_t i = 0; i < n; i++) {
            real[i] = fds[i];
            real[i].revents = 0;
            if (fake_file(fds[i].fd)) {
                fds[i].revents = fake_revents_locked(fds[i].fd, fds[i].events, now, &wake);
                real[i].fd = -1;
                if (fds[i].revents)
                    nready++;
            }
        }
        pthread_mutex_unlock(&g_lock);
        if (deadline < wake)
            wake = deadline;
        struct timespec ts = {0, 0};
        if (!nready && wake > now) {
            uint64_t dt = wake - now;
            ts.tv_sec = (time_t)(dt / 1000000000ULL);
            ts.tv_nsec = (long)(dt % 1000000000ULL);
        }
        int r = REAL(ppoll)(real, n, &ts, sigmask);
        if (r < 0) {
            result = -1;
            break;
        }
        for (nfds_t i = 0; i < n; i++)
            if (real[i].fd >= 0 || fds[i].fd < 0)
                fds[i].revents = real[i].revents;
        if (r + nready > 0) {
            result = r + nready;
            break;
        }
        if (mono_ns() >= deadline) {
            result = 0;
            break;
        }
    }
    if (real != stackbuf) {
        int e = errno;
        free(real);
        errno = e;
    }
    return result;
}

static int fc_poll(struct pollfd *fds, nfds_t n, int timeout) {
    if (has_fake(fds, n))
        return mixed_poll(fds, n, timeout < 0 ? -1 : (int64_t)timeout * 1000000LL, NULL);
    return REAL(poll)(fds, n, timeout);
}

FC_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) { return fc_poll(fds, n, timeout); }

FC_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen) {
    (void)fdslen;
    return fc_poll(fds, n, timeout);
}

static int fc_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *sigmask) {
    if (has_fake(fds, n))
        return mixed_poll(fds, n, tmo ? (int64_t)tmo->tv_sec * 1000000000LL + tmo->tv_nsec : -1, sigmask);
    return REAL(ppoll)(fds, n, tmo, sigmask);
}

#pragma GCC diagnostic pop

FC_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *sigmask) {
    return fc_ppoll(fds, n, tmo, sigmask);
}

FC_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *sigmask,
                          size_t fdslen) {
    (void)fdslen;
    return fc_ppoll(fds, n, tmo, sigmask);
}

static int sets_have_fake(int nfds, fd_set *r, fd_set *w, fd_set *e) {
    if (!any_fake())
        return 0;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
        if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))) && fake_file(fd))
            return 1;
    return 0;
}

static int select_via_poll(int nfds, fd_set *r, fd_set *w, fd_set *e, int64_t timeout_ns, const sigset_t *mask) {
    struct pollfd pf[FD_SETSIZE];
    int n = 0;
    if (nfds > FD_SETSIZE)
        nfds = FD_SETSIZE;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = 0;
        if (r && FD_ISSET(fd, r))
            ev |= POLLIN;
        if (w && FD_ISSET(fd, w))
            ev |= POLLOUT;
        if (e && FD_ISSET(fd, e))
            ev |= POLLPRI;
        if (ev) {
            pf[n].fd = fd;
            pf[n].events = ev;
            pf[n].revents = 0;
            n++;
        }
    }
    int rc = mixed_poll(pf, (nfds_t)n, timeout_ns, mask);
    if (rc < 0)
        return rc;
    for (int i = 0; i < n; i++)
        if (pf[i].revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
    if (r)
        FD_ZERO(r);
    if (w)
        FD_ZERO(w);
    if (e)
        FD_ZERO(e);
    int count = 0;
    for (int i = 0; i < n; i++) {
        short re = pf[i].revents, ev = pf[i].events;
        if ((ev & POLLIN) && (re & (POLLIN | POLLRDNORM | POLLHUP | POLLERR))) {
            FD_SET(pf[i].fd, r);
            count++;
        }
        if ((ev & POLLOUT) && (re & (POLLOUT | POLLWRNORM | POLLERR))) {
            FD_SET(pf[i].fd, w);
            count++;
        }
        if ((ev & POLLPRI) && (re & POLLPRI)) {
            FD_SET(pf[i].fd, e);
            count++;
        }
    }
    return count;
}

FC_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
    if (!sets_have_fake(nfds, r, w, e))
        return REAL(select)(nfds, r, w, e, tv);
    uint64_t start = mono_ns();
    int64_t t = tv ? (int64_t)tv->tv_sec * 1000000000LL + (int64_t)tv->tv_usec * 1000LL : -1;
    int rc = select_via_poll(nfds, r, w, e, t, NULL);
    if (tv && rc >= 0) { /* Linux reports the time left */
        int64_t left = t - (int64_t)(mono_ns() - start);
        if (left < 0)
            left = 0;
        tv->tv_sec = (time_t)(left / 1000000000LL);
        tv->tv_usec = (suseconds_t)((left % 1000000000LL) / 1000);
    }
    return rc;
}

FC_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts, const sigset_t *mask) {
    if (!sets_have_fake(nfds, r, w, e))
        return REAL(pselect)(nfds, r, w, e, ts, mask);
    return select_via_poll(nfds, r, w, e, ts ? (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec : -1, mask);
}

static struct fcepoll *epoll_find_locked(int epfd, int create) {
    for (struct fcepoll *p = g_epolls; p; p = p->next)
        if (p->epfd == epfd)
            return p;
    if (!create)
        return NULL;
    struct fcepoll *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->epfd = epfd;
    p->next = g_epolls;
    g_epolls = p;
    return p;
}

static void epoll_forget_fd_locked(int fd) {
    struct fcepoll **pp = &g_epolls;
    while (*pp) {
        struct fcepoll *p = *pp;
        if (p->epfd == fd) { /* the epoll fd itself is being closed */
            *pp = p->next;
            free(p);
            continue;
        }
        for (int i = 0; i < p->n; i++)
            if (p->items[i].fd == fd) {
                p->items[i] = p->items[--p->n];
                i--;
            }
        pp = &p->next;
    }
}

FC_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev) {
    if (!fake_file(fd)) {
        int r = REAL(epoll_ctl)(epfd, op, fd, ev);
        return r;
    }
    /* fake fds are watched here, not by the kernel */
    pthread_mutex_lock(&g_lock);
    int err = 0;
    struct fcepoll *p = epoll_find_locked(epfd, op == EPOLL_CTL_ADD);
    int at = -1;
    if (p)
        for (int i = 0; i < p->n; i++)
            if (p->items[i].fd == fd)
                at = i;
    if (op == EPOLL_CTL_ADD) {
        if (!p)
            err = ENOMEM;
        else if (at >= 0)
            err = EEXIST;
        else if (p->n >= (int)(sizeof p->items / sizeof *p->items))
            err = ENOSPC;
        else {
            p->items[p->n].fd = fd;
            p->items[p->n].ev = ev ? *ev : (struct epoll_event){0};
            p->items[p->n].disabled = 0;
            p->n++;
        }
    } else if (op == EPOLL_CTL_MOD) {
        if (at < 0)
            err = ENOENT;
        else {
            p->items[at].ev = ev ? *ev : (struct epoll_event){0};
            p->items[at].disabled = 0;
        }
    } else if (op == EPOLL_CTL_DEL) {
        if (at < 0)
            err = ENOENT;
        else
            p->items[at] = p->items[--p->n];
    } else {
        err = EINVAL;
    }
    pthread_mutex_unlock(&g_lock);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

static int fc_epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout, const sigset_t *mask) {
    if (!any_fake())
        return REAL(epoll_pwait)(epfd, events, max, timeout, mask);
    pthread_mutex_lock(&g_lock);
    struct fcepoll *p0 = epoll_find_locked(epfd, 0);
    int tracked = p0 && p0->n > 0;
    pthread_mutex_unlock(&g_lock);
    if (!tracked || max <= 0)
        return REAL(epoll_pwait)(epfd, events, max, timeout, mask);
    uint64_t deadline = timeout < 0 ? UINT64_MAX : mono_ns() + (uint64_t)timeout * 1000000ULL;
    for (;;) {
        int nf = 0;
        uint64_t now = mono_ns();
        uint64_t wake = now + SLICE_NS;
        pthread_mutex_lock(&g_lock);
        check_control_locked();
        struct fcepoll *p = epoll_find_locked(epfd, 0);
        for (int i = 0; p && i < p->n && nf < max; i++) {
            struct fcepoll_item *it = &p->items[i];
            if (it->disabled)
                continue;
            short want = (short)((it->ev.events & (EPOLLIN | EPOLLRDNORM | EPOLLPRI)) | POLLERR | POLLHUP);
            short re = fake_revents_locked(it->fd, want, now, &wake);
            if (re & POLLNVAL)
                continue;
            if (re) {
                events[nf].events = (uint32_t)re;
                events[nf].data = it->ev.data;
                nf++;
                if (it->ev.events & EPOLLONESHOT)
                    it->disabled = 1;
            }
        }
        pthread_mutex_unlock(&g_lock);
        if (deadline < wake)
            wake = deadline;
        int tmo = 0;
        if (!nf && wake > now)
            tmo = (int)((wake - now + 999999) / 1000000);
        int r = REAL(epoll_pwait)(epfd, events + nf, max - nf, tmo, mask);
        if (r < 0)
            return nf ? nf : -1;
        if (r + nf > 0)
            return r + nf;
        if (mono_ns() >= deadline)
            return 0;
    }
}

FC_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout, const sigset_t *mask) {
    return fc_epoll_pwait(epfd, events, max, timeout, mask);
}

FC_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
    return fc_epoll_pwait(epfd, events, max, timeout, NULL);
}

/* ------------------------------------------------------------------------ */
/* Directory listings: /dev and /sys/class/video4linux.                     */

static int dir_kind(const char *name) {
    if (!name)
        return 0;
    if (!strcmp(name, "/dev") || !strcmp(name, "/dev/"))
        return 1;
    if (!strcmp(name, "/sys/class/video4linux") || !strcmp(name, "/sys/class/video4linux/"))
        return 2;
    return 0;
}

FC_EXPORT DIR *opendir(const char *name) {
    int kind = dir_kind(name);
    DIR *d = REAL(opendir)(name);
    if (!kind)
        return d;
    ensure_init();
    int skip_real = 0;
    if (!d && kind == 2) {
        /* no such class here: list only ours, from a stand-in stream */
        d = REAL(opendir)("/");
        skip_real = 1;
    }
    if (!d)
        return NULL;
    struct fcdir *fd = calloc(1, sizeof *fd);
    if (!fd)
        return d;
    fd->dir = d;
    fd->kind = kind;
    fd->skip_real = skip_real;
    fd->real_done = skip_real;
    pthread_mutex_lock(&g_lock);
    check_control_locked();
    fd->nextdir = g_dirs;
    g_dirs = fd;
    pthread_mutex_unlock(&g_lock);
    return d;
}

static struct fcdir *find_dir(DIR *d) {
    if (!__atomic_load_n(&g_dirs, __ATOMIC_ACQUIRE))
        return NULL;
    pthread_mutex_lock(&g_lock);
    struct fcdir *p = g_dirs;
    while (p && p->dir != d)
        p = p->nextdir;
    pthread_mutex_unlock(&g_lock);
    return p;
}

/* The next fake entry of a listing, or NULL. */
static struct dirent64 *next_fake_entry(struct fcdir *fd) {
    pthread_mutex_lock(&g_lock);
    check_control_locked();
    struct dirent64 *res = NULL;
    while (fd->next < g_ndev) {
        struct fcdev *d = &g_devs[fd->next++];
        if (!d->present)
            continue;
        memset(&fd->ent, 0, sizeof fd->ent);
        fd->ent.d_ino = 0x7fca0000u + (unsigned)d->node;
        fd->ent.d_off = fd->next;
        fd->ent.d_reclen = sizeof fd->ent;
        fd->ent.d_type = fd->kind == 1 ? DT_CHR : DT_LNK;
        snprintf(fd->ent.d_name, sizeof fd->ent.d_name, "video%d", d->node);
        res = &fd->ent;
        break;
    }
    pthread_mutex_unlock(&g_lock);
    return res;
}

FC_EXPORT struct dirent64 *readdir64(DIR *d) {
    struct fcdir *fd = find_dir(d);
    if (!fd)
        return REAL(readdir64)(d);
    if (!fd->real_done) {
        struct dirent64 *e = REAL(readdir64)(d);
        if (e)
            return e;
        fd->real_done = 1;
    }
    return next_fake_entry(fd);
}

FC_EXPORT struct dirent *readdir(DIR *d) {
    struct fcdir *fd = find_dir(d);
    if (!fd)
        return REAL(readdir)(d);
    if (!fd->real_done) {
        struct dirent *e = REAL(readdir)(d);
        if (e)
            return e;
        fd->real_done = 1;
    }
    /* struct dirent and struct dirent64 share their layout on LP64 */
    return (struct dirent *)next_fake_entry(fd);
}

FC_EXPORT void rewinddir(DIR *d) {
    struct fcdir *fd = find_dir(d);
    if (fd) {
        fd->real_done = fd->skip_real;
        fd->next = 0;
    }
    REAL(rewinddir)(d);
}

FC_EXPORT int closedir(DIR *d) {
    if (__atomic_load_n(&g_dirs, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&g_lock);
        for (struct fcdir **pp = &g_dirs; *pp; pp = &(*pp)->nextdir)
            if ((*pp)->dir == d) {
                struct fcdir *p = *pp;
                *pp = p->nextdir;
                free(p);
                break;
            }
        pthread_mutex_unlock(&g_lock);
    }
    return REAL(closedir)(d);
}

/* glibc's scandir does not go through readdir: list fake directories here. */
static int scandir_common(const char *dir, struct dirent64 ***list, int (*sel)(const struct dirent64 *),
                          int (*cmp)(const struct dirent64 **, const struct dirent64 **)) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent64 **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent64 *e;
    while ((e = readdir64(d))) {
        if (sel && !sel(e))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct dirent64 **nv = realloc(v, cap * sizeof *v);
            if (!nv)
                goto fail;
            v = nv;
        }
        v[n] = malloc(sizeof *e);
        if (!v[n])
            goto fail;
        memcpy(v[n], e, sizeof *e);
        n++;
    }
    closedir(d);
    if (cmp && n > 1)
        qsort(v, n, sizeof *v, (int (*)(const void *, const void *))cmp);
    *list = v;
    return (int)n;
fail:
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    closedir(d);
    errno = ENOMEM;
    return -1;
}

typedef int (*scandir64_fn_t)(const char *, struct dirent64 ***, int (*)(const struct dirent64 *),
                              int (*)(const struct dirent64 **, const struct dirent64 **));

FC_EXPORT int scandir64(const char *dir, struct dirent64 ***list, int (*sel)(const struct dirent64 *),
                        int (*cmp)(const struct dirent64 **, const struct dirent64 **)) {
    if (dir_kind(dir))
        return scandir_common(dir, list, sel, cmp);
    static scandir64_fn_t real;
    if (!real)
        real = (scandir64_fn_t)dlsym(RTLD_NEXT, "scandir64");
    return real(dir, list, sel, cmp);
}

FC_EXPORT int scandir(const char *dir, struct dirent ***list, int (*sel)(const struct dirent *),
                      int (*cmp)(const struct dirent **, const struct dirent **)) {
    if (dir_kind(dir))
        return scandir_common(dir, (struct dirent64 ***)list, (int (*)(const struct dirent64 *))sel,
                              (int (*)(const struct dirent64 **, const struct dirent64 **))cmp);
    static scandir64_fn_t real;
    if (!real)
        real = (scandir64_fn_t)dlsym(RTLD_NEXT, "scandir");
    return real(dir, (struct dirent64 ***)list, (int (*)(const struct dirent64 *))sel,
                (int (*)(const struct dirent64 **, const struct dirent64 **))cmp);
}

/* ------------------------------------------------------------------------ */
/* stat / access.                                                            */

/* What a path is to us: 0 not ours, else 1 char device, 2 directory, 3 file,
 * or -1 ours but absent (unplugged). */
static int path_kind(const char *path, struct fcdev **dev) {
    struct fcdev *d = dev_path(path);
    int file;
    int k = SYS_NONE;
    if (!d) {
        k = sys_path(path, &d, &file);
        if (k == SYS_NONE)
            return 0;
        if (k == SYS_CLASSDIR) {
            struct stat st;
            if (REAL(stat)("/sys/class/video4linux", &st) == 0)
                return 0; /* the real one exists: let it answer */
            ensure_init();
            *dev = NULL;
            return 2;
        }
    }
    pthread_mutex_lock(&g_lock);
    check_control_locked();
    int present = d->present;
    pthread_mutex_unlock(&g_lock);
    *dev = d;
    if (!present)
        return -1;
    return k == SYS_NONE ? 1 : k == SYS_FILE ? 3 : 2;
}

static void fill_stat(struct stat *st, int kind, const struct fcdev *d) {
    memset(st, 0, sizeof *st);
    st->st_nlink = 1;
    st->st_blksize = 4096;
    st->st_atime = st->st_mtime = st->st_ctime = g_load_time;
    if (kind == 1) {
        st->st_mode = S_IFCHR | 0660;
        st->st_rdev = makedev(VIDEO_MAJOR, d->node);
        st->st_dev = makedev(0, 5);
        st->st_ino = 0x7fca0000u + (unsigned)d->node;
        st->st_gid = 44; /* video */
    } else if (kind == 2) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        st->st_dev = makedev(0, 21);
        st->st_ino = 0x7fcb0000u + (unsigned)(d ? d->node : 0xffff);
    } else {
        st->st_mode = S_IFREG | 0444;
        st->st_size = 4096;
        st->st_blocks = 0;
        st->st_dev = makedev(0, 21);
        st->st_ino = 0x7fcc0000u + (unsigned)d->node;
    }
}

static int stat_path(const char *path, struct stat *st, int *handled) {
    struct fcdev *d = NULL;
    int k = path_kind(path, &d);
    *handled = k != 0;
    if (k == 0)
        return 0;
    if (k < 0) {
        errno = ENOENT;
        return -1;
    }
    fill_stat(st, k, d);
    return 0;
}

static int stat_fd(int fd, struct stat *st) {
    struct fcfile *f = fake_file(fd);
    if (!f)
        return 1;
    fill_stat(st, 1, f->dev);
    return 0;
}

FC_EXPORT int stat(const char *path, struct stat *st) {
    int h, r = stat_path(path, st, &h);
    return h ? r : REAL(stat)(path, st);
}

FC_EXPORT int stat64(const char *path, struct stat64 *st) {
    int h, r = stat_path(path, (struct stat *)st, &h);
    return h ? r : REAL(stat64)(path, st);
}

FC_EXPORT int lstat(const char *path, struct stat *st) {
    int h, r = stat_path(path, st, &h);
    return h ? r : REAL(lstat)(path, st);
}

FC_EXPORT int lstat64(const char *path, struct stat64 *st) {
    int h, r = stat_path(path, (struct stat *)st, &h);
    return h ? r : REAL(lstat64)(path, st);
}

FC_EXPORT int fstat(int fd, struct stat *st) {
    if (stat_fd(fd, st) == 0)
        return 0;
    return REAL(fstat)(fd, st);
}

FC_EXPORT int fstat64(int fd, struct stat64 *st) {
    if (stat_fd(fd, (struct stat *)st) == 0)
        return 0;
    return REAL(fstat64)(fd, st);
}

FC_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
    if ((flags & AT_EMPTY_PATH) && launder(path) && !*path && stat_fd(dirfd, st) == 0)
        return 0;
    if (is_abs(path)) {
        int h, r = stat_path(path, st, &h);
        if (h)
            return r;
    }
    return REAL(fstatat)(dirfd, path, st, flags);
}

FC_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
    if ((flags & AT_EMPTY_PATH) && launder(path) && !*path && stat_fd(dirfd, (struct stat *)st) == 0)
        return 0;
    if (is_abs(path)) {
        int h, r = stat_path(path, (struct stat *)st, &h);
        if (h)
            return r;
    }
    return REAL(fstatat64)(dirfd, path, st, flags);
}

/* Binaries built against glibc before 2.33 call these. Never through the
 * public stat()/fstat() symbols: an interposer ahead of this one may
 * implement those with these, and the two would call each other for ever. */
DEFINE_REAL(int, __xstat, (int, const char *, struct stat *))
DEFINE_REAL(int, __xstat64, (int, const char *, struct stat64 *))
DEFINE_REAL(int, __lxstat, (int, const char *, struct stat *))
DEFINE_REAL(int, __lxstat64, (int, const char *, struct stat64 *))
DEFINE_REAL(int, __fxstat, (int, int, struct stat *))
DEFINE_REAL(int, __fxstat64, (int, int, struct stat64 *))
DEFINE_REAL(int, __fxstatat, (int, int, const char *, struct stat *, int))
DEFINE_REAL(int, __fxstatat64, (int, int, const char *, struct stat64 *, int))

FC_EXPORT int __xstat(int ver, const char *path, struct stat *st) {
    int h, r = stat_path(path, st, &h);
    if (h)
        return r;
    return REAL(__xstat) ? REAL(__xstat)(ver, path, st) : REAL(stat)(path, st);
}
FC_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st) {
    int h, r = stat_path(path, (struct stat *)st, &h);
    if (h)
        return r;
    return REAL(__xstat64) ? REAL(__xstat64)(ver, path, st) : REAL(stat64)(path, st);
}
FC_EXPORT int __lxstat(int ver, const char *path, struct stat *st) {
    int h, r = stat_path(path, st, &h);
    if (h)
        return r;
    return REAL(__lxstat) ? REAL(__lxstat)(ver, path, st) : REAL(lstat)(path, st);
}
FC_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st) {
    int h, r = stat_path(path, (struct stat *)st, &h);
    if (h)
        return r;
    return REAL(__lxstat64) ? REAL(__lxstat64)(ver, path, st) : REAL(lstat64)(path, st);
}
FC_EXPORT int __fxstat(int ver, int fd, struct stat *st) {
    if (stat_fd(fd, st) == 0)
        return 0;
    return REAL(__fxstat) ? REAL(__fxstat)(ver, fd, st) : REAL(fstat)(fd, st);
}
FC_EXPORT int __fxstat64(int ver, int fd, struct stat64 *st) {
    if (stat_fd(fd, (struct stat *)st) == 0)
        return 0;
    return REAL(__fxstat64) ? REAL(__fxstat64)(ver, fd, st) : REAL(fstat64)(fd, st);
}
FC_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags) {
    if ((flags & AT_EMPTY_PATH) && launder(path) && !*path && stat_fd(dirfd, st) == 0)
        return 0;
    if (is_abs(path)) {
        int h, r = stat_path(path, st, &h);
        if (h)
            return r;
    }
    return REAL(__fxstatat) ? REAL(__fxstatat)(ver, dirfd, path, st, flags) : REAL(fstatat)(dirfd, path, st, flags);
}
FC_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags) {
    if ((flags & AT_EMPTY_PATH) && launder(path) && !*path && stat_fd(dirfd, (struct stat *)st) == 0)
        return 0;
    if (is_abs(path)) {
        int h, r = stat_path(path, (struct stat *)st, &h);
        if (h)
            return r;
    }
    return REAL(__fxstatat64) ? REAL(__fxstatat64)(ver, dirfd, path, st, flags)
                              : REAL(fstatat64)(dirfd, path, st, flags);
}

static void stat_to_statx(const struct stat *st, struct statx *sx) {
    memset(sx, 0, sizeof *sx);
    sx->stx_mask = STATX_BASIC_STATS;
    sx->stx_blksize = (uint32_t)st->st_blksize;
    sx->stx_nlink = (uint32_t)st->st_nlink;
    sx->stx_uid = st->st_uid;
    sx->stx_gid = st->st_gid;
    sx->stx_mode = (uint16_t)st->st_mode;
    sx->stx_ino = st->st_ino;
    sx->stx_size = (uint64_t)st->st_size;
    sx->stx_blocks = (uint64_t)st->st_blocks;
    sx->stx_atime.tv_sec = st->st_atime;
    sx->stx_mtime.tv_sec = st->st_mtime;
    sx->stx_ctime.tv_sec = st->st_ctime;
    sx->stx_rdev_major = major(st->st_rdev);
    sx->stx_rdev_minor = minor(st->st_rdev);
    sx->stx_dev_major = major(st->st_dev);
    sx->stx_dev_minor = minor(st->st_dev);
}

FC_EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx) {
    struct stat st;
    if ((flags & AT_EMPTY_PATH) && launder(path) && !*path && stat_fd(dirfd, &st) == 0) {
        stat_to_statx(&st, sx);
        return 0;
    }
    if (is_abs(path)) {
        int h, r = stat_path(path, &st, &h);
        if (h) {
            if (r == 0)
                stat_to_statx(&st, sx);
            return r;
        }
    }
    if (!REAL(statx)) {
        errno = ENOSYS;
        return -1;
    }
    return REAL(statx)(dirfd, path, flags, mask, sx);
}

static int access_path(const char *path, int mode, int *handled) {
    struct fcdev *d = NULL;
    int k = path_kind(path, &d);
    *handled = k != 0;
    if (k == 0)
        return 0;
    if (k < 0) {
        errno = ENOENT;
        return -1;
    }
    if (k == 3 && (mode & W_OK)) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

FC_EXPORT int access(const char *path, int mode) {
    int h, r = access_path(path, mode, &h);
    return h ? r : REAL(access)(path, mode);
}

FC_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags) {
    if (is_abs(path)) {
        int h, r = access_path(path, mode, &h);
        if (h)
            return r;
    }
    return REAL(faccessat)(dirfd, path, mode, flags);
}

/* Extended attributes (ls -l asks for the SELinux label): there are none. */
static int xattr_path(const char *path, int *handled) {
    struct fcdev *d = NULL;
    int k = is_abs(path) ? path_kind(path, &d) : 0;
    *handled = k != 0;
    errno = k < 0 ? ENOENT : ENODATA;
    return -1;
}

FC_EXPORT ssize_t getxattr(const char *path, const char *name, void *value, size_t size) {
    int h, r = xattr_path(path, &h);
    return h ? r : REAL(getxattr)(path, name, value, size);
}

FC_EXPORT ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size) {
    int h, r = xattr_path(path, &h);
    return h ? r : REAL(lgetxattr)(path, name, value, size);
}

FC_EXPORT ssize_t listxattr(const char *path, char *list, size_t size) {
    int h, r = xattr_path(path, &h);
    if (h)
        return errno == ENOENT ? r : 0;
    return REAL(listxattr)(path, list, size);
}

FC_EXPORT ssize_t llistxattr(const char *path, char *list, size_t size) {
    int h, r = xattr_path(path, &h);
    if (h)
        return errno == ENOENT ? r : 0;
    return REAL(llistxattr)(path, list, size);
}

__attribute__((constructor)) static void fakecam_load(void) {
    /* Configuration is read lazily, at the first use of a fake path, so that
     * processes that never look for a camera pay nothing. FAKECAM_DEBUG
     * alone is read here, to say the shim is loaded. */
    const char *e = getenv("FAKECAM_DEBUG");
    if (e && *e && strcmp(e, "0") != 0)
        ensure_init();
}
