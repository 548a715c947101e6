/*
 * Tests of the fakecam shim, driving it the way the `v4l` crate (nokhwa's
 * V4L2 backend) does: ioctls through syscall(SYS_ioctl, ...), devices found
 * by listing /dev and reading /sys/class/video4linux/videoN/name, fds opened
 * O_RDWR | O_NONBLOCK, poll() before VIDIOC_DQBUF, mmap'd buffers.
 *
 * Run under the shim (tests/run.sh does) with:
 *   FAKECAM_DEVICES="Document Camera;Face Camera" FAKECAM_FORMATS="MJPG,YUYV;MJPG"
 *   FAKECAM_IMAGES=front.jpg;face.jpg FAKECAM_CONTROL=<an existing file>
 *   FAKECAM_TEST_ALT_IMAGE=back.jpg
 * Prints one line per test and a closing "N passed, M failed"; exits 1 on
 * any failure.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>
#include <turbojpeg.h>

static int passed, failed;
static char why[512];
static const char *control;
static int node_doc = -1, node_face = -1;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            snprintf(why, sizeof why, __VA_ARGS__);                                                                    \
            return 0;                                                                                                  \
        }                                                                                                              \
    } while (0)

static void run(const char *name, int (*fn)(void)) {
    why[0] = 0;
    fflush(stdout);
    if (fn()) {
        passed++;
        printf("ok - %s\n", name);
    } else {
        failed++;
        printf("FAIL - %s: %s\n", name, why);
    }
    fflush(stdout);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* The v4l crate's ioctl. */
static int xioctl(int fd, unsigned long req, void *arg) { return (int)syscall(SYS_ioctl, fd, req, arg); }

static void ctl(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    int fd = open(control, O_WRONLY | O_APPEND);
    if (fd >= 0) {
        if (write(fd, line, strlen(line)) < 0)
            perror("control");
        close(fd);
    }
}

static int open_node(int node, int flags) {
    char path[64];
    snprintf(path, sizeof path, "/dev/video%d", node);
    return open(path, flags);
}

/* Read /sys/class/video4linux/videoN/name as std::fs::read_to_string does. */
static int read_name(int node, char *out, size_t n) {
    char path[96];
    snprintf(path, sizeof path, "/sys/class/video4linux/video%d/name", node);
    int fd = open64(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    fstat(fd, &st);
    ssize_t r = read(fd, out, n - 1);
    close(fd);
    if (r < 0)
        return -1;
    out[r] = 0;
    return 0;
}

/* /dev entries named video*, as v4l::context::enum_devices finds them. */
static int list_nodes(int *nodes, int max) {
    DIR *d = opendir("/dev");
    if (!d)
        return -1;
    int n = 0;
    struct dirent64 *e;
    while ((e = readdir64(d)) && n < max)
        if (!strncmp(e->d_name, "video", 5))
            nodes[n++] = atoi(e->d_name + 5);
    closedir(d);
    return n;
}

static int listed(int node) {
    int nodes[64];
    int n = list_nodes(nodes, 64);
    for (int i = 0; i < n; i++)
        if (nodes[i] == node)
            return 1;
    return 0;
}

struct stream {
    int fd;
    int n;
    void *ptr[8];
    size_t len[8];
    int last; /* index to requeue before the next dequeue, or -1 */
    struct v4l2_buffer buf;
};

static int set_format(int fd, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t fps) {
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    f.fmt.pix.pixelformat = fourcc;
    f.fmt.pix.width = w;
    f.fmt.pix.height = h;
    if (xioctl(fd, VIDIOC_S_FMT, &f))
        return -1;
    if (f.fmt.pix.width != w || f.fmt.pix.height != h || f.fmt.pix.pixelformat != fourcc) {
        errno = ERANGE;
        return -1;
    }
    struct v4l2_streamparm p = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    p.parm.capture.timeperframe.numerator = 1;
    p.parm.capture.timeperframe.denominator = fps;
    return xioctl(fd, VIDIOC_S_PARM, &p);
}

/* MmapStream::new (REQBUFS 4, QUERYBUF, mmap), then the queueing and
 * STREAMON that its first next() does. */
static int start_stream(struct stream *s, int fd, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t fps) {
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->last = -1;
    if (set_format(fd, fourcc, w, h, fps))
        return -1;
    struct v4l2_requestbuffers rb = {.count = 4, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    if (xioctl(fd, VIDIOC_REQBUFS, &rb))
        return -1;
    s->n = (int)rb.count;
    for (int i = 0; i < s->n; i++) {
        struct v4l2_buffer b = {.index = (uint32_t)i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        if (xioctl(fd, VIDIOC_QUERYBUF, &b))
            return -1;
        s->ptr[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset);
        if (s->ptr[i] == MAP_FAILED)
            return -1;
        s->len[i] = b.length;
    }
    for (int i = 0; i < s->n; i++) {
        struct v4l2_buffer b = {.index = (uint32_t)i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        if (xioctl(fd, VIDIOC_QBUF, &b))
            return -1;
    }
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    return xioctl(fd, VIDIOC_STREAMON, &type);
}

/* 1: a frame in s->buf; 0: poll timed out; -1: error (errno). */
static int next_frame(struct stream *s, int timeout_ms, short *revents) {
    if (s->last >= 0) {
        struct v4l2_buffer b = {.index = (uint32_t)s->last, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                .memory = V4L2_MEMORY_MMAP};
        if (xioctl(s->fd, VIDIOC_QBUF, &b))
            return -1;
        s->last = -1;
    }
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (revents)
        *revents = p.revents;
    if (r < 0)
        return -1;
    if (r == 0)
        return 0;
    memset(&s->buf, 0, sizeof s->buf);
    s->buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    s->buf.memory = V4L2_MEMORY_MMAP;
    if (xioctl(s->fd, VIDIOC_DQBUF, &s->buf))
        return -1;
    s->last = (int)s->buf.index;
    return 1;
}

static void stop_stream(struct stream *s, int close_fd) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    xioctl(s->fd, VIDIOC_STREAMOFF, &type);
    for (int i = 0; i < s->n; i++)
        if (s->ptr[i] && s->ptr[i] != MAP_FAILED)
            munmap(s->ptr[i], s->len[i]);
    struct v4l2_requestbuffers rb = {.count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    xioctl(s->fd, VIDIOC_REQBUFS, &rb);
    if (close_fd)
        close(s->fd);
    s->n = 0;
}

/* Decode a JPEG strictly (warnings count as errors). 0 when clean. */
static int decode_jpeg(const uint8_t *p, size_t len, int *w, int *h) {
    tjhandle tj = tjInitDecompress();
    int ss, cs, rc = -1;
    if (tjDecompressHeader3(tj, p, (unsigned long)len, w, h, &ss, &cs) == 0) {
        uint8_t *rgb = malloc((size_t)*w * *h * 3);
        rc = tjDecompress2(tj, p, (unsigned long)len, rgb, *w, 0, *h, TJPF_RGB, TJFLAG_STOPONWARNING);
        free(rgb);
    }
    tjDestroy(tj);
    return rc;
}

/* ------------------------------------------------------------------------ */

static int t_listing(void) {
    int nodes[64];
    int n = list_nodes(nodes, 64);
    CHECK(n >= 2, "expected 2 video entries in /dev, found %d", n);
    for (int i = 0; i < n; i++) {
        char name[128];
        if (read_name(nodes[i], name, sizeof name))
            continue;
        if (!strcmp(name, "Document Camera\n"))
            node_doc = nodes[i];
        if (!strcmp(name, "Face Camera\n"))
            node_face = nodes[i];
    }
    CHECK(node_doc >= 0 && node_face >= 0, "sysfs names not found (doc %d, face %d)", node_doc, node_face);
    /* the class directory lists them too */
    DIR *d = opendir("/sys/class/video4linux");
    CHECK(d, "opendir /sys/class/video4linux: %s", strerror(errno));
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "video", 5))
            seen++;
    closedir(d);
    CHECK(seen >= 2, "/sys/class/video4linux lists %d", seen);
    return 1;
}

static int t_sysfs_and_stat(void) {
    char path[96];
    snprintf(path, sizeof path, "/sys/class/video4linux/video%d/name", node_face);
    FILE *f = fopen(path, "r");
    CHECK(f, "fopen %s: %s", path, strerror(errno));
    char line[64] = {0};
    CHECK(fgets(line, sizeof line, f), "fgets");
    fclose(f);
    CHECK(!strcmp(line, "Face Camera\n"), "name via fopen: '%s'", line);
    snprintf(path, sizeof path, "/sys/class/video4linux/video%d/name", node_doc);
    CHECK(open(path, O_WRONLY) < 0 && errno == EACCES, "sysfs name opened for writing");
    snprintf(path, sizeof path, "/dev/video%d", node_doc);
    struct stat st;
    CHECK(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
    CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 81 && (int)minor(st.st_rdev) == node_doc,
          "stat: not char 81:%d", node_doc);
    CHECK(access(path, R_OK | W_OK) == 0, "access: %s", strerror(errno));
    struct statx sx;
    CHECK(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx) == 0 && S_ISCHR(sx.stx_mode), "statx");
    int fd = open(path, O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0, "open: %s", strerror(errno));
    CHECK(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode), "fstat on the fd");
    close(fd);
    CHECK(stat("/dev/video999", &st) < 0 && errno == ENOENT, "stat of a missing node");
    return 1;
}

static int t_querycap(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0, "open: %s", strerror(errno));
    struct v4l2_capability c;
    memset(&c, 0, sizeof c);
    int r = xioctl(fd, VIDIOC_QUERYCAP, &c);
    close(fd);
    CHECK(r == 0, "QUERYCAP: %s", strerror(errno));
    CHECK(!strcmp((char *)c.driver, "fakecam"), "driver '%s'", c.driver);
    CHECK(!strcmp((char *)c.card, "Document Camera"), "card '%s'", c.card);
    CHECK(c.bus_info[0], "empty bus_info");
    CHECK((c.capabilities & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_DEVICE_CAPS)) ==
              (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_DEVICE_CAPS),
          "capabilities 0x%x", c.capabilities);
    CHECK((c.device_caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING)) ==
              (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING),
          "device_caps 0x%x", c.device_caps);
    return 1;
}

static int enum_fmts(int node, uint32_t *out, int max) {
    int fd = open_node(node, O_RDWR | O_NONBLOCK);
    int n = 0;
    struct v4l2_fmtdesc d = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    while (n < max && xioctl(fd, VIDIOC_ENUM_FMT, &d) == 0) {
        out[n++] = d.pixelformat;
        d.index++;
    }
    int e = errno;
    close(fd);
    return e == EINVAL ? n : -1;
}

static int t_enum_formats(void) {
    uint32_t f[8];
    int n = enum_fmts(node_doc, f, 8);
    CHECK(n == 2 && f[0] == V4L2_PIX_FMT_MJPEG && f[1] == V4L2_PIX_FMT_YUYV, "document camera: %d formats", n);
    n = enum_fmts(node_face, f, 8);
    CHECK(n == 1 && f[0] == V4L2_PIX_FMT_MJPEG, "face camera: %d formats", n);
    return 1;
}

static int count_intervals(int fd, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t *fps, int *err) {
    struct v4l2_frmivalenum fi = {.pixel_format = fourcc, .width = w, .height = h};
    int n = 0;
    while (xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) == 0) {
        if (fi.type == V4L2_FRMIVAL_TYPE_DISCRETE && fi.discrete.numerator == 1)
            fps[n++] = fi.discrete.denominator;
        fi.index++;
    }
    *err = errno;
    return n;
}

static int t_sizes_and_intervals(void) {
    static const uint32_t sizes[4][2] = {{640, 480}, {1280, 720}, {1920, 1080}, {3840, 2160}};
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0, "open");
    struct v4l2_frmsizeenum fs = {.pixel_format = V4L2_PIX_FMT_MJPEG};
    int n = 0;
    while (xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0) {
        CHECK(fs.type == V4L2_FRMSIZE_TYPE_DISCRETE, "size %d not discrete", n);
        CHECK(n < 4 && fs.discrete.width == sizes[n][0] && fs.discrete.height == sizes[n][1], "size %d: %ux%u", n,
              fs.discrete.width, fs.discrete.height);
        n++;
        fs.index++;
    }
    CHECK(n == 4 && errno == EINVAL, "%d sizes, end errno %d", n, errno);
    uint32_t fps[8];
    int err;
    n = count_intervals(fd, V4L2_PIX_FMT_MJPEG, 1920, 1080, fps, &err);
    CHECK(n == 2 && fps[0] == 30 && fps[1] == 15 && err == EINVAL, "MJPG 1080p: %d rates", n);
    n = count_intervals(fd, V4L2_PIX_FMT_MJPEG, 3840, 2160, fps, &err);
    CHECK(n == 2 && fps[0] == 30, "MJPG 4K: %d rates", n);
    n = count_intervals(fd, V4L2_PIX_FMT_YUYV, 3840, 2160, fps, &err);
    CHECK(n == 1 && fps[0] == 15, "YUYV 4K: %d rates (first %u)", n, n ? fps[0] : 0);
    n = count_intervals(fd, V4L2_PIX_FMT_YUYV, 1000, 700, fps, &err);
    CHECK(n == 0 && err == EINVAL, "an unoffered size has rates");
    fs.index = 0;
    fs.pixel_format = V4L2_PIX_FMT_NV12;
    CHECK(xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) < 0 && errno == EINVAL, "NV12 has sizes");
    close(fd);
    return 1;
}

static int t_format_negotiation(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0, "open");
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
    f.fmt.pix.width = 1000;
    f.fmt.pix.height = 700;
    CHECK(xioctl(fd, VIDIOC_TRY_FMT, &f) == 0, "TRY_FMT: %s", strerror(errno));
    CHECK(f.fmt.pix.width == 1280 && f.fmt.pix.height == 720, "1000x700 -> %ux%u", f.fmt.pix.width, f.fmt.pix.height);
    CHECK(f.fmt.pix.bytesperline == 2560 && f.fmt.pix.sizeimage == 1280 * 720 * 2, "YUYV bpl %u size %u",
          f.fmt.pix.bytesperline, f.fmt.pix.sizeimage);
    f.fmt.pix.pixelformat = v4l2_fourcc('R', 'G', 'B', '3');
    CHECK(xioctl(fd, VIDIOC_TRY_FMT, &f) == 0 && f.fmt.pix.pixelformat == V4L2_PIX_FMT_MJPEG,
          "an unoffered format is not replaced by the first");
    CHECK(set_format(fd, V4L2_PIX_FMT_MJPEG, 1920, 1080, 15) == 0, "S_FMT 1080p MJPG @15: %s", strerror(errno));
    struct v4l2_format g = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    CHECK(xioctl(fd, VIDIOC_G_FMT, &g) == 0, "G_FMT");
    CHECK(g.fmt.pix.width == 1920 && g.fmt.pix.height == 1080 && g.fmt.pix.pixelformat == V4L2_PIX_FMT_MJPEG,
          "G_FMT after S_FMT: %ux%u", g.fmt.pix.width, g.fmt.pix.height);
    CHECK(g.fmt.pix.bytesperline == 0 && g.fmt.pix.sizeimage >= 1920 * 1080, "MJPG sizeimage %u",
          g.fmt.pix.sizeimage);
    struct v4l2_streamparm p = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    CHECK(xioctl(fd, VIDIOC_G_PARM, &p) == 0, "G_PARM");
    CHECK(p.parm.capture.timeperframe.numerator == 1 && p.parm.capture.timeperframe.denominator == 15,
          "G_PARM %u/%u after setting 15 fps", p.parm.capture.timeperframe.numerator,
          p.parm.capture.timeperframe.denominator);
    CHECK(p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME, "no TIMEPERFRAME capability");
    p.parm.capture.timeperframe.denominator = 60;
    CHECK(xioctl(fd, VIDIOC_S_PARM, &p) == 0 && p.parm.capture.timeperframe.denominator == 30,
          "60 fps not clamped to 30 (%u)", p.parm.capture.timeperframe.denominator);
    /* YUYV 4K offers 15 fps only: the rate follows the format */
    f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
    f.fmt.pix.width = 3840;
    f.fmt.pix.height = 2160;
    CHECK(xioctl(fd, VIDIOC_S_FMT, &f) == 0, "S_FMT 4K YUYV");
    CHECK(xioctl(fd, VIDIOC_G_PARM, &p) == 0 && p.parm.capture.timeperframe.denominator == 15,
          "4K YUYV at %u fps", p.parm.capture.timeperframe.denominator);
    /* the format is device state: another handle sees it */
    int fd2 = open_node(node_doc, O_RDWR);
    CHECK(xioctl(fd2, VIDIOC_G_FMT, &g) == 0 && g.fmt.pix.width == 3840, "format not shared between handles");
    close(fd2);
    /* other buffer types are not supported */
    g.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    CHECK(xioctl(fd, VIDIOC_G_FMT, &g) < 0 && errno == EINVAL, "G_FMT of an output type");
    set_format(fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30);
    close(fd);
    return 1;
}

static int t_controls_and_unknown(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0, "open");
    struct v4l2_queryctrl q = {.id = V4L2_CTRL_FLAG_NEXT_CTRL};
    CHECK(xioctl(fd, VIDIOC_QUERYCTRL, &q) < 0 && errno == EINVAL, "QUERYCTRL did not end the list");
    struct v4l2_query_ext_ctrl qe = {.id = V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND};
    CHECK(xioctl(fd, VIDIOC_QUERY_EXT_CTRL, &qe) < 0 && errno == EINVAL, "QUERY_EXT_CTRL did not end the list");
    int input = -1;
    CHECK(xioctl(fd, VIDIOC_G_INPUT, &input) == 0 && input == 0, "G_INPUT");
    struct v4l2_input in = {.index = 0};
    CHECK(xioctl(fd, VIDIOC_ENUMINPUT, &in) == 0 && in.type == V4L2_INPUT_TYPE_CAMERA, "ENUMINPUT");
    int dummy = 0;
    CHECK(xioctl(fd, _IOWR('V', 200, int), &dummy) < 0 && errno == ENOTTY, "unknown ioctl: errno %d", errno);
    /* the libc ioctl() goes the same way */
    struct v4l2_capability c;
    CHECK(ioctl(fd, VIDIOC_QUERYCAP, &c) == 0 && !strcmp((char *)c.driver, "fakecam"), "ioctl() QUERYCAP");
    CHECK(read(fd, &c, sizeof c) < 0 && errno == EINVAL, "read() I/O is not offered");
    close(fd);
    return 1;
}

static int t_passthrough(void) {
    int fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0, "open /dev/null");
    struct termios t;
    CHECK(ioctl(fd, TCGETS, &t) < 0 && errno == ENOTTY, "TCGETS on /dev/null: errno %d", errno);
    CHECK(syscall(SYS_ioctl, fd, TCGETS, &t) < 0 && errno == ENOTTY, "syscall ioctl on /dev/null");
    char b[4];
    CHECK(read(fd, b, sizeof b) == 0, "read /dev/null");
    close(fd);
    CHECK(syscall(SYS_getpid) == getpid(), "syscall(SYS_getpid)");
    /* six arguments forwarded intact */
    void *m = (void *)syscall(SYS_mmap, NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED && m != NULL && (long)m != -1, "syscall(SYS_mmap) anonymous");
    ((char *)m)[8191] = 1;
    CHECK(syscall(SYS_munmap, m, 8192) == 0, "syscall(SYS_munmap)");
    struct stat st;
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1, "stat /dev/null");
    return 1;
}

static int t_stream_mjpeg(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0, "open");
    /* before STREAMON there is nothing to wait for */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLERR), "poll before streaming: revents 0x%x", p.revents);
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 1280, 720, 30) == 0, "start: %s", strerror(errno));
    /* non-blocking: the first frame is one interval away */
    struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    CHECK(xioctl(fd, VIDIOC_DQBUF, &b) < 0 && errno == EAGAIN, "early DQBUF: errno %d", errno);
    const int N = 45;
    double t0 = 0, t1 = 0;
    uint32_t prev_seq = 0;
    double prev_ts = 0, sum_dt = 0;
    for (int i = 0; i < N; i++) {
        int r = next_frame(&s, 1000, NULL);
        CHECK(r == 1, "frame %d: %s", i, r == 0 ? "timeout" : strerror(errno));
        if (i == 0)
            t0 = now_s();
        t1 = now_s();
        CHECK(s.buf.bytesused > 1000 && s.buf.bytesused < s.buf.length, "bytesused %u of %u", s.buf.bytesused,
              s.buf.length);
        CHECK(s.buf.flags & V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC, "timestamp not monotonic");
        double ts = s.buf.timestamp.tv_sec + s.buf.timestamp.tv_usec / 1e6;
        if (i > 0) {
            CHECK(s.buf.sequence == prev_seq + 1, "sequence %u after %u", s.buf.sequence, prev_seq);
            CHECK(ts > prev_ts, "timestamps not increasing");
            sum_dt += ts - prev_ts;
        }
        prev_seq = s.buf.sequence;
        prev_ts = ts;
        const uint8_t *data = s.ptr[s.buf.index];
        CHECK(data[0] == 0xFF && data[1] == 0xD8, "no SOI");
        if (i % 15 == 0) {
            int w, h;
            /* the whole buffer, as v4l hands it out */
            CHECK(decode_jpeg(data, s.len[s.buf.index], &w, &h) == 0, "frame %d does not decode", i);
            CHECK(w == 1280 && h == 720, "decoded %dx%d", w, h);
        }
    }
    double fps = (N - 1) / (t1 - t0);
    double ts_fps = (N - 1) / sum_dt;
    stop_stream(&s, 1);
    printf("  MJPG 1280x720: %.2f fps delivered, %.2f fps by timestamps\n", fps, ts_fps);
    CHECK(fps > 26 && fps < 34, "%.2f fps delivered for 30", fps);
    CHECK(ts_fps > 29 && ts_fps < 31, "%.2f fps by timestamps", ts_fps);
    return 1;
}

static int t_stream_yuyv(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0, "open");
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_YUYV, 640, 480, 15) == 0, "start: %s", strerror(errno));
    const int N = 16;
    double t0 = 0, t1 = 0;
    for (int i = 0; i < N; i++) {
        int r = next_frame(&s, 1000, NULL);
        CHECK(r == 1, "frame %d: %s", i, r == 0 ? "timeout" : strerror(errno));
        if (i == 0)
            t0 = now_s();
        t1 = now_s();
        CHECK(s.buf.bytesused == 640 * 480 * 2 && s.len[s.buf.index] >= 640 * 480 * 2, "bytesused %u",
              s.buf.bytesused);
    }
    const uint8_t *y = s.ptr[s.buf.index];
    int lo = 255, hi = 0;
    for (int i = 0; i < 640 * 480 * 2; i += 2) {
        lo = y[i] < lo ? y[i] : lo;
        hi = y[i] > hi ? y[i] : hi;
    }
    double fps = (N - 1) / (t1 - t0);
    stop_stream(&s, 1);
    printf("  YUYV 640x480: %.2f fps\n", fps);
    CHECK(lo >= 16 && hi <= 235 && hi - lo > 100, "luma range %d..%d", lo, hi);
    CHECK(fps > 13 && fps < 17, "%.2f fps for 15", fps);
    return 1;
}

static int t_stream_4k_yuyv(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_YUYV, 3840, 2160, 15) == 0, "start: %s", strerror(errno));
    const int N = 10;
    double t0 = 0, t1 = 0;
    for (int i = 0; i < N; i++) {
        CHECK(next_frame(&s, 2000, NULL) == 1, "frame %d: %s", i, strerror(errno));
        if (i == 0)
            t0 = now_s();
        t1 = now_s();
        CHECK(s.buf.bytesused == 3840u * 2160 * 2, "bytesused %u", s.buf.bytesused);
    }
    double fps = (N - 1) / (t1 - t0);
    stop_stream(&s, 1);
    printf("  YUYV 3840x2160: %.2f fps\n", fps);
    CHECK(fps > 12.5 && fps < 17, "%.2f fps for 15", fps);
    return 1;
}

static int t_blocking_and_select(void) {
    int fd = open_node(node_face, O_RDWR); /* blocking */
    CHECK(fd >= 0, "open");
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start: %s", strerror(errno));
    double t0 = now_s();
    struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    CHECK(xioctl(fd, VIDIOC_DQBUF, &b) == 0, "blocking DQBUF: %s", strerror(errno));
    double dt = now_s() - t0;
    CHECK(dt > 0.015 && dt < 0.2, "blocking DQBUF returned after %.3f s", dt);
    CHECK(xioctl(fd, VIDIOC_QBUF, &b) == 0, "QBUF");
    fd_set r;
    FD_ZERO(&r);
    FD_SET(fd, &r);
    struct timeval tv = {1, 0};
    int n = select(fd + 1, &r, NULL, NULL, &tv);
    CHECK(n == 1 && FD_ISSET(fd, &r), "select: %d", n);
    CHECK(xioctl(fd, VIDIOC_DQBUF, &b) == 0, "DQBUF after select");
    /* epoll */
    CHECK(xioctl(fd, VIDIOC_QBUF, &b) == 0, "QBUF");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0, "epoll_ctl: %s", strerror(errno));
    struct epoll_event out;
    n = epoll_wait(ep, &out, 1, 1000);
    CHECK(n == 1 && (out.events & EPOLLIN) && out.data.u64 == 42, "epoll_wait: %d", n);
    close(ep);
    stop_stream(&s, 1);
    return 1;
}

static int t_stall(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start: %s", strerror(errno));
    CHECK(next_frame(&s, 1000, NULL) == 1, "first frame");
    ctl("stall 0");
    short re = 0;
    errno = 0;
    double t0 = now_s();
    int r = next_frame(&s, 300, &re);
    double dt = now_s() - t0;
    CHECK(r == 0 && re == 0, "stalled poll returned %d (revents 0x%x, %s)", r, re, strerror(errno));
    CHECK(dt > 0.25, "stalled poll returned after %.3f s", dt);
    struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    CHECK(xioctl(fd, VIDIOC_DQBUF, &b) < 0 && errno == EAGAIN, "stalled DQBUF: errno %d", errno);
    ctl("unstall 0");
    t0 = now_s();
    CHECK(next_frame(&s, 1000, NULL) == 1, "no frame after unstall");
    CHECK(now_s() - t0 < 0.2, "first frame after unstall took %.3f s", now_s() - t0);
    stop_stream(&s, 1);
    ctl("reset all");
    return 1;
}

static int t_slow(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start: %s", strerror(errno));
    CHECK(next_frame(&s, 1000, NULL) == 1, "first frame");
    ctl("slow 0 100");
    next_frame(&s, 1000, NULL); /* the frame already scheduled */
    double t0 = now_s();
    const int N = 6;
    for (int i = 0; i < N; i++)
        CHECK(next_frame(&s, 1000, NULL) == 1, "slow frame %d", i);
    double fps = N / (now_s() - t0);
    ctl("slow 0 0");
    next_frame(&s, 1000, NULL);
    stop_stream(&s, 1);
    printf("  slow 0 100: %.2f fps (30 fps + 100 ms a frame: 7.5)\n", fps);
    CHECK(fps > 6.5 && fps < 8.5, "%.2f fps with 100 ms extra a frame", fps);
    ctl("reset all");
    return 1;
}

static int corrupt_run(const char *mode, int count) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start: %s", strerror(errno));
    CHECK(next_frame(&s, 1000, NULL) == 1, "first frame");
    int w, h;
    CHECK(decode_jpeg(s.ptr[s.buf.index], s.len[s.buf.index], &w, &h) == 0, "a clean frame does not decode");
    if (mode)
        ctl("corrupt 0 %d %s", count, mode);
    else
        ctl("corrupt 0 %d", count);
    for (int i = 0; i < count; i++) {
        CHECK(next_frame(&s, 1000, NULL) == 1, "frame %d", i);
        CHECK(decode_jpeg(s.ptr[s.buf.index], s.len[s.buf.index], &w, &h) != 0, "corrupt frame %d (%s) decodes", i,
              mode ? mode : "mixed");
    }
    CHECK(next_frame(&s, 1000, NULL) == 1, "frame after");
    CHECK(decode_jpeg(s.ptr[s.buf.index], s.len[s.buf.index], &w, &h) == 0, "the frame after the corrupt ones");
    stop_stream(&s, 1);
    return 1;
}

static int t_corrupt(void) {
    if (!corrupt_run(NULL, 3))
        return 0;
    if (!corrupt_run("truncate", 1))
        return 0;
    if (!corrupt_run("garbage", 1))
        return 0;
    if (!corrupt_run("huffman", 2))
        return 0;
    ctl("reset all");
    return 1;
}

static int t_unplug_replug(void) {
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    int fd1 = open_node(node_face, O_RDWR | O_NONBLOCK);
    struct stream s, s1;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start: %s", strerror(errno));
    CHECK(start_stream(&s1, fd1, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start face: %s", strerror(errno));
    CHECK(next_frame(&s, 1000, NULL) == 1, "first frame");
    ctl("unplug 0");
    short re = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLERR), "poll after unplug: revents 0x%x", p.revents);
    (void)re;
    struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    CHECK(xioctl(fd, VIDIOC_DQBUF, &b) < 0 && errno == ENODEV, "DQBUF after unplug: errno %d", errno);
    struct v4l2_capability c;
    CHECK(xioctl(fd, VIDIOC_QUERYCAP, &c) < 0 && errno == ENODEV, "QUERYCAP after unplug: errno %d", errno);
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    CHECK(xioctl(fd, VIDIOC_STREAMOFF, &type) < 0 && errno == ENODEV, "STREAMOFF after unplug: errno %d", errno);
    CHECK(open_node(node_doc, O_RDWR | O_NONBLOCK) < 0 && errno == ENOENT, "open after unplug: errno %d", errno);
    CHECK(!listed(node_doc), "still listed in /dev after unplug");
    char name[64];
    CHECK(read_name(node_doc, name, sizeof name) < 0 && errno == ENOENT, "sysfs name after unplug");
    struct stat st;
    CHECK(stat("/dev/video0", &st) < 0 || node_doc != 0, "stat after unplug");
    /* the mappings stay readable memory */
    volatile uint8_t x = ((uint8_t *)s.ptr[0])[0];
    (void)x;
    /* the other camera goes on */
    CHECK(next_frame(&s1, 1000, NULL) == 1, "face camera stopped by the unplug of the document camera");
    ctl("plug 0");
    CHECK(listed(node_doc), "not listed after plug");
    CHECK(xioctl(fd, VIDIOC_QUERYCAP, &c) < 0 && errno == ENODEV, "an old handle came back to life");
    int fd2 = open_node(node_doc, O_RDWR | O_NONBLOCK);
    CHECK(fd2 >= 0, "open after plug: %s", strerror(errno));
    struct stream s2;
    CHECK(start_stream(&s2, fd2, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start after plug: %s", strerror(errno));
    CHECK(next_frame(&s2, 1000, NULL) == 1, "frame after plug");
    stop_stream(&s2, 1);
    for (int i = 0; i < s.n; i++)
        CHECK(munmap(s.ptr[i], s.len[i]) == 0, "munmap after unplug");
    CHECK(close(fd) == 0, "close after unplug: %s", strerror(errno));
    stop_stream(&s1, 1);
    ctl("reset all");
    return 1;
}

static int t_busy_deny(void) {
    ctl("busy 1");
    CHECK(open_node(node_face, O_RDWR) < 0 && errno == EBUSY, "busy: errno %d", errno);
    ctl("unbusy 1");
    ctl("deny 1");
    CHECK(open_node(node_face, O_RDWR) < 0 && errno == EACCES, "deny: errno %d", errno);
    ctl("allow 1");
    int fd = open_node(node_face, O_RDWR);
    CHECK(fd >= 0, "open after allow: %s", strerror(errno));
    close(fd);
    ctl("reset all");
    return 1;
}

static int t_ownership(void) {
    int a = open_node(node_doc, O_RDWR | O_NONBLOCK), b = open_node(node_doc, O_RDWR | O_NONBLOCK);
    struct stream s;
    CHECK(start_stream(&s, a, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start: %s", strerror(errno));
    struct v4l2_requestbuffers rb = {.count = 4, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    CHECK(xioctl(b, VIDIOC_REQBUFS, &rb) < 0 && errno == EBUSY, "REQBUFS from a second handle: errno %d", errno);
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
    f.fmt.pix.width = 640;
    f.fmt.pix.height = 480;
    CHECK(xioctl(b, VIDIOC_S_FMT, &f) < 0 && errno == EBUSY, "S_FMT while buffers exist: errno %d", errno);
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, a, 12345);
    CHECK(m == MAP_FAILED && errno == EINVAL, "mmap at a bad offset");
    m = mmap(NULL, s.len[0], PROT_READ, MAP_PRIVATE, a, 0);
    CHECK(m == MAP_FAILED && errno == EINVAL, "private mmap");
    rb.memory = V4L2_MEMORY_USERPTR;
    CHECK(xioctl(a, VIDIOC_REQBUFS, &rb) < 0 && errno == EINVAL, "USERPTR accepted");
    /* a dup'd fd is the same handle */
    int d = dup(a);
    struct v4l2_capability c;
    CHECK(xioctl(d, VIDIOC_QUERYCAP, &c) == 0, "QUERYCAP on a dup: %s", strerror(errno));
    close(d);
    CHECK(next_frame(&s, 1000, NULL) == 1, "frame after closing a dup");
    /* closing the owner without STREAMOFF frees the queue for others */
    close(a);
    for (int i = 0; i < s.n; i++)
        munmap(s.ptr[i], s.len[i]);
    rb.memory = V4L2_MEMORY_MMAP;
    CHECK(xioctl(b, VIDIOC_REQBUFS, &rb) == 0, "REQBUFS after the owner closed: %s", strerror(errno));
    rb.count = 0;
    xioctl(b, VIDIOC_REQBUFS, &rb);
    close(b);
    return 1;
}

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int t_reopen_cycles(void) {
    int before = count_fds();
    for (int i = 0; i < 30; i++) {
        int fd = open_node(i % 2 ? node_face : node_doc, O_RDWR | O_NONBLOCK);
        CHECK(fd >= 0, "cycle %d: open: %s", i, strerror(errno));
        struct stream s;
        CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, i % 3 ? 640 : 1280, i % 3 ? 480 : 720, 30) == 0,
              "cycle %d: start: %s", i, strerror(errno));
        CHECK(next_frame(&s, 1000, NULL) == 1, "cycle %d: no frame", i);
        if (i % 4 == 0) {
            /* drop everything at once, as a crashing consumer would */
            for (int k = 0; k < s.n; k++)
                munmap(s.ptr[k], s.len[k]);
            close(fd);
        } else {
            stop_stream(&s, 1);
        }
    }
    int after = count_fds();
    CHECK(after == before, "fds: %d before, %d after", before, after);
    return 1;
}

struct thr {
    int node;
    int frames;
    double fps;
    int err;
};

static void *stream_thread(void *arg) {
    struct thr *t = arg;
    int fd = open_node(t->node, O_RDWR | O_NONBLOCK);
    struct stream s;
    if (fd < 0 || start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30)) {
        t->err = errno ? errno : -1;
        return NULL;
    }
    double t0 = 0;
    for (int i = 0; i < 31; i++) {
        if (next_frame(&s, 1000, NULL) != 1) {
            t->err = errno ? errno : -1;
            break;
        }
        if (i == 0)
            t0 = now_s();
        t->frames++;
    }
    t->fps = (t->frames - 1) / (now_s() - t0);
    stop_stream(&s, 1);
    return NULL;
}

static int t_threads(void) {
    struct thr a = {.node = node_doc}, b = {.node = node_face};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, stream_thread, &a);
    pthread_create(&tb, NULL, stream_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(!a.err && !b.err, "errors %d / %d", a.err, b.err);
    CHECK(a.frames == 31 && b.frames == 31, "frames %d / %d", a.frames, b.frames);
    CHECK(a.fps > 26 && b.fps > 26 && a.fps < 34 && b.fps < 34, "%.1f / %.1f fps", a.fps, b.fps);
    return 1;
}

static int t_image_switch(void) {
    const char *alt = getenv("FAKECAM_TEST_ALT_IMAGE");
    CHECK(alt && *alt, "FAKECAM_TEST_ALT_IMAGE not set");
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start: %s", strerror(errno));
    CHECK(next_frame(&s, 1000, NULL) == 1, "first frame");
    uint32_t len0 = s.buf.bytesused;
    uint8_t *first = malloc(len0);
    memcpy(first, s.ptr[s.buf.index], len0);
    ctl("image 0 %s", alt);
    CHECK(next_frame(&s, 2000, NULL) == 1, "frame after image");
    int differs = s.buf.bytesused != len0 || memcmp(first, s.ptr[s.buf.index], len0) != 0;
    int w, h;
    int ok = decode_jpeg(s.ptr[s.buf.index], s.len[s.buf.index], &w, &h) == 0;
    free(first);
    stop_stream(&s, 1);
    ctl("reset all");
    CHECK(differs, "the picture did not change");
    CHECK(ok && w == 640 && h == 480, "the new picture does not decode at 640x480");
    return 1;
}

/* nokhwa-bindings-linux V4LCaptureDevice::new + set_camera_format +
 * open_stream + frame_raw, then the drops, in the v4l crate's order. The v4l
 * crate panics if STREAMOFF or REQBUFS(0) in its drops fail with anything but
 * ENODEV, and unwraps close(): check exactly that, plugged and unplugged. */
static int nokhwa_session(int node, int unplug_midway) {
    int fd = open_node(node, O_RDWR | O_NONBLOCK); /* Device::new */
    CHECK(fd >= 0, "open: %s", strerror(errno));
    uint32_t f[4];
    struct v4l2_fmtdesc fd_ = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    int nf = 0;
    while (xioctl(fd, VIDIOC_ENUM_FMT, &fd_) == 0 && nf < 4) {
        f[nf++] = fd_.pixelformat;
        fd_.index++;
    }
    CHECK(nf >= 1, "no formats");
    /* RequestedFormatType::None takes the first format, size and rate */
    struct v4l2_frmsizeenum fs = {.pixel_format = f[0]};
    CHECK(xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0, "ENUM_FRAMESIZES");
    struct v4l2_frmivalenum fi = {.pixel_format = f[0], .width = fs.discrete.width, .height = fs.discrete.height};
    CHECK(xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) == 0 && fi.discrete.numerator == 1, "ENUM_FRAMEINTERVALS");
    /* get_device_format: G_FMT + G_PARM; the rate must be 1/N */
    struct v4l2_format g = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    struct v4l2_streamparm p = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    CHECK(xioctl(fd, VIDIOC_G_FMT, &g) == 0 && xioctl(fd, VIDIOC_G_PARM, &p) == 0, "G_FMT/G_PARM");
    CHECK(p.parm.capture.timeperframe.numerator == 1, "frame interval %u/%u is not 1/N",
          p.parm.capture.timeperframe.numerator, p.parm.capture.timeperframe.denominator);
    struct v4l2_capability c;
    CHECK(xioctl(fd, VIDIOC_QUERYCAP, &c) == 0, "QUERYCAP");
    /* set_camera_format(Exact): G_FMT, G_PARM, S_FMT, S_PARM(with_fps), then
     * the refresh must read back exactly what was set */
    CHECK(set_format(fd, V4L2_PIX_FMT_MJPEG, 1280, 720, 15) == 0, "S_FMT/S_PARM: %s", strerror(errno));
    CHECK(xioctl(fd, VIDIOC_G_FMT, &g) == 0 && xioctl(fd, VIDIOC_G_PARM, &p) == 0, "refresh");
    CHECK(g.fmt.pix.width == 1280 && g.fmt.pix.height == 720 && p.parm.capture.timeperframe.denominator == 15,
          "refresh read back %ux%u @ %u", g.fmt.pix.width, g.fmt.pix.height, p.parm.capture.timeperframe.denominator);
    /* open_stream: MmapStream::new (REQBUFS 4, QUERYBUF + mmap each) */
    struct v4l2_requestbuffers rb = {.count = 4, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    CHECK(xioctl(fd, VIDIOC_REQBUFS, &rb) == 0 && rb.count == 4, "REQBUFS 4");
    void *ptr[4];
    size_t len[4];
    for (uint32_t i = 0; i < 4; i++) {
        struct v4l2_buffer b = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        CHECK(xioctl(fd, VIDIOC_QUERYBUF, &b) == 0, "QUERYBUF");
        ptr[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)b.m.offset);
        CHECK(ptr[i] != MAP_FAILED, "mmap: %s", strerror(errno));
        len[i] = b.length;
    }
    /* frame_raw: the first next() queues all and starts; later ones requeue
     * the last buffer; poll(POLLIN, -1) before each DQBUF */
    int last = -1, frames = 0, lost = 0;
    for (int k = 0; k < 8; k++) {
        if (last < 0) {
            for (uint32_t i = 0; i < 4; i++) {
                struct v4l2_buffer b = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
                CHECK(xioctl(fd, VIDIOC_QBUF, &b) == 0, "QBUF %u", i);
            }
            int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
            CHECK(xioctl(fd, VIDIOC_STREAMON, &type) == 0, "STREAMON");
        } else {
            struct v4l2_buffer b = {.index = (uint32_t)last, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                    .memory = V4L2_MEMORY_MMAP};
            if (xioctl(fd, VIDIOC_QBUF, &b)) {
                CHECK(unplug_midway && errno == ENODEV, "requeue: %s", strerror(errno));
                lost = 1;
                break;
            }
        }
        if (unplug_midway && k == 4)
            ctl("unplug 0");
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, 3000); /* -1 in the crate; bounded here */
        CHECK(r == 1, "poll returned %d (the crate asserts 0 or 1, and -1 would hang)", r);
        struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        if (xioctl(fd, VIDIOC_DQBUF, &b)) {
            CHECK(unplug_midway && errno == ENODEV && (pf.revents & POLLERR), "DQBUF: %s", strerror(errno));
            lost = 1;
            break;
        }
        const uint8_t *data = ptr[b.index];
        int w, h;
        CHECK(decode_jpeg(data, len[b.index], &w, &h) == 0 && w == 1280 && h == 720, "frame_raw does not decode");
        last = (int)b.index;
        frames++;
    }
    CHECK(unplug_midway ? lost && frames >= 4 : frames == 8, "%d frames, lost %d", frames, lost);
    /* drops: Stream (STREAMOFF), Arena (munmap, REQBUFS 0), Handle (close) */
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    int r = xioctl(fd, VIDIOC_STREAMOFF, &type);
    CHECK(r == 0 || errno == ENODEV, "STREAMOFF in drop: %s (v4l panics)", strerror(errno));
    for (int i = 0; i < 4; i++)
        CHECK(munmap(ptr[i], len[i]) == 0, "munmap in drop");
    rb.count = 0;
    r = xioctl(fd, VIDIOC_REQBUFS, &rb);
    CHECK(r == 0 || errno == ENODEV, "REQBUFS 0 in drop: %s (v4l panics)", strerror(errno));
    CHECK(close(fd) == 0, "close in drop: %s (v4l unwraps)", strerror(errno));
    return 1;
}

static int t_nokhwa_sequence(void) {
    if (!nokhwa_session(node_doc, 0))
        return 0;
    if (!nokhwa_session(node_doc, 1))
        return 0;
    int fd = open_node(node_doc, O_RDWR | O_NONBLOCK);
    CHECK(fd < 0 && errno == ENOENT, "open while unplugged: %s", strerror(errno));
    ctl("plug 0");
    if (!nokhwa_session(node_doc, 0))
        return 0;
    ctl("reset all");
    return 1;
}

static int t_missing_image(void) {
    ctl("image 1 /nonexistent/picture.jpg");
    int fd = open_node(node_face, O_RDWR | O_NONBLOCK);
    struct stream s;
    CHECK(start_stream(&s, fd, V4L2_PIX_FMT_MJPEG, 640, 480, 30) == 0, "start: %s", strerror(errno));
    CHECK(next_frame(&s, 1000, NULL) == 1, "no frame from colour bars");
    int w, h;
    CHECK(decode_jpeg(s.ptr[s.buf.index], s.len[s.buf.index], &w, &h) == 0 && w == 640, "colour bars do not decode");
    stop_stream(&s, 1);
    return 1;
}

/* --check-mjpeg FILE W H: FILE holds MJPEG frames back to back (as
 * v4l2-ctl --stream-to writes them); each must decode cleanly at WxH.
 * Prints the number of frames; exits 1 on a bad one. */
static int check_mjpeg_file(const char *path, int w, int h) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)len);
    if (!d || fread(d, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }
    fclose(f);
    long start = 0, frames = 0;
    /* entropy-coded data stuffs 0xFF, so FF D9 only ends a frame */
    for (long i = 0; i + 1 < len; i++) {
        if (d[i] != 0xFF || d[i + 1] != 0xD9)
            continue;
        int fw, fh;
        if (d[start] != 0xFF || d[start + 1] != 0xD8 || decode_jpeg(d + start, (size_t)(i + 2 - start), &fw, &fh) ||
            fw != w || fh != h) {
            fprintf(stderr, "%s: frame %ld at %ld does not decode at %dx%d\n", path, frames, start, w, h);
            return 1;
        }
        frames++;
        start = i + 2;
        i++;
    }
    free(d);
    if (start != len || frames == 0) {
        fprintf(stderr, "%s: %ld trailing bytes after %ld frames\n", path, len - start, frames);
        return 1;
    }
    printf("%ld\n", frames);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--check-mjpeg"))
        return check_mjpeg_file(argv[2], atoi(argv[3]), atoi(argv[4]));
    control = getenv("FAKECAM_CONTROL");
    if (!control || !*control) {
        fprintf(stderr, "FAKECAM_CONTROL must name an existing file\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    run("listing: /dev and sysfs names", t_listing);
    if (node_doc < 0 || node_face < 0) {
        printf("0 passed, %d failed\n", failed + 1);
        return 1;
    }
    run("sysfs files and stat of the nodes", t_sysfs_and_stat);
    run("VIDIOC_QUERYCAP", t_querycap);
    run("VIDIOC_ENUM_FMT per device", t_enum_formats);
    run("frame sizes and intervals", t_sizes_and_intervals);
    run("format and rate negotiation", t_format_negotiation);
    run("controls, inputs and unknown ioctls", t_controls_and_unknown);
    run("real fds and syscalls pass through", t_passthrough);
    run("MJPEG 720p30 stream: rate, sequence, timestamps, decoding", t_stream_mjpeg);
    run("YUYV 480p15 stream", t_stream_yuyv);
    run("YUYV 4K 15 fps stream", t_stream_4k_yuyv);
    run("blocking DQBUF, select and epoll", t_blocking_and_select);
    run("stall: poll times out without error; unstall", t_stall);
    run("slow: extra delay per frame", t_slow);
    run("corrupt: mixed, truncate, garbage, huffman", t_corrupt);
    run("unplug: ENODEV, POLLERR, ENOENT, unlisted; plug", t_unplug_replug);
    run("busy and deny on open", t_busy_deny);
    run("buffer ownership, bad mmaps, dup", t_ownership);
    run("open/stream/close 30 times without leaks", t_reopen_cycles);
    run("two cameras streaming on two threads", t_threads);
    run("image: the picture changes at run time", t_image_switch);
    run("nokhwa's sequence: open, negotiate, stream, drop; unplugged midway", t_nokhwa_sequence);
    run("a missing picture streams colour bars", t_missing_image);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
