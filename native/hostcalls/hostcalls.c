// The few system calls the runtime service needs that Node does not expose:
//   mount(source, target, fstype, data)  an overlay rootfs without spawning mount(8) per container
//   umount(target)                       lazily (MNT_DETACH), so a busy mount never blocks teardown
//   seqpacketConnect(dir, name)          a connected AF_UNIX SOCK_SEQPACKET socket (conmon's attach
//                                        socket): Node's net opens stream sockets only. The path is
//                                        reached through /proc/self/fd of its directory, so it may be
//                                        longer than sun_path's 108 bytes.
//   openpty()                            { master, slave } fds of a new pty pair (bench/attach-echo.ts
//                                        runs each CLI on a terminal of its own)
//   shutdown(fd, how)                    0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR: half-closing the
//                                        attach socket is how its peer's stdin gets EOF
// Each throws an Error whose code is the errno name (EBUSY, EPERM, ...) on failure.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>

static const char* errno_name(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTCONN: return "ENOTCONN";
    case ENOTSOCK: return "ENOTSOCK";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, const char* call, const char* arg) {
  char msg[512];
  int err = errno;
  snprintf(msg, sizeof(msg), "%s(%s): %s", call, arg, strerror(err));
  napi_throw_error(env, errno_name(err), msg);
  return NULL;
}

/** Reads argument i as a UTF-8 string into buf; returns 0 (with a pending exception) if it is not one. */
static int get_string(napi_env env, napi_value value, char* buf, size_t size) {
  size_t len;
  if (napi_get_value_string_utf8(env, value, buf, size, &len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "expected a string argument");
    return 0;
  }
  if (len >= size - 1) {
    napi_throw_range_error(env, "EINVAL", "string argument too long");
    return 0;
  }
  return 1;
}

/** Reads exactly `want` arguments into argv; returns 0 (with a pending exception naming `usage`) if fewer came. */
static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv, const char* usage) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < want) {
    napi_throw_type_error(env, "EINVAL", usage);
    return 0;
  }
  return 1;
}

static napi_value Mount(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv, "mount(source, target, fstype, data): four strings expected")) return NULL;
  static char source[4096], target[4096], fstype[64], data[16384];
  if (!get_string(env, argv[0], source, sizeof(source)) || !get_string(env, argv[1], target, sizeof(target)) ||
      !get_string(env, argv[2], fstype, sizeof(fstype)) || !get_string(env, argv[3], data, sizeof(data)))
    return NULL;
  if (mount(source, target, fstype, 0, data) != 0) return throw_errno(env, "mount", target);
  return NULL;
}

static napi_value Umount(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv, "umount(target): a path expected")) return NULL;
  static char target[4096];
  if (!get_string(env, argv[0], target, sizeof(target))) return NULL;
  if (umount2(target, MNT_DETACH) != 0) return throw_errno(env, "umount2", target);
  return NULL;
}

static int get_int(napi_env env, napi_value value, int32_t* out, const char* usage) {
  if (napi_get_value_int32(env, value, out) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", usage);
    return 0;
  }
  return 1;
}

static napi_value SeqpacketConnect(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv, "seqpacketConnect(dir, name): two strings expected")) return NULL;
  static char dir[4096], name[256];
  if (!get_string(env, argv[0], dir, sizeof(dir)) || !get_string(env, argv[1], name, sizeof(name))) return NULL;
  int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return throw_errno(env, "open", dir);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dirfd, name);
  if (n < 0 || (size_t)n >= sizeof(addr.sun_path)) {
    close(dirfd);
    napi_throw_range_error(env, "EINVAL", "socket name too long");
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    close(dirfd);
    return throw_errno(env, "socket", name);
  }
  int rc = connect(fd, (struct sockaddr*)&addr, sizeof(addr));
  int saved = errno;
  close(dirfd);
  if (rc != 0) {
    close(fd);
    errno = saved;
    return throw_errno(env, "connect", name);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value Shutdown(napi_env env, napi_callback_info info) {
  static const char usage[] = "shutdown(fd, how): two integers expected";
  napi_value argv[2];
  if (!get_args(env, info, 2, argv, usage)) return NULL;
  int32_t fd, how;
  if (!get_int(env, argv[0], &fd, usage) || !get_int(env, argv[1], &how, usage)) return NULL;
  if (shutdown(fd, how) != 0 && errno != ENOTCONN) return throw_errno(env, "shutdown", "fd");
  return NULL;
}

static napi_value Openpty(napi_env env, napi_callback_info info) {
  (void)info;
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return throw_errno(env, "posix_openpt", "/dev/ptmx");
  char name[128];
  if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof(name)) != 0) {
    int saved = errno;
    close(master);
    errno = saved;
    return throw_errno(env, "unlockpt", "/dev/ptmx");
  }
  int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int saved = errno;
    close(master);
    errno = saved;
    return throw_errno(env, "open", name);
  }
  napi_value result, m, sl;
  napi_create_object(env, &result);
  napi_create_int32(env, master, &m);
  napi_create_int32(env, slave, &sl);
  napi_set_named_property(env, result, "master", m);
  napi_set_named_property(env, result, "slave", sl);
  return result;
}

NAPI_MODULE_INIT() {
  const struct { const char* name; napi_callback fn; } fns[] = { { "mount", Mount }, { "umount", Umount }, { "seqpacketConnect", SeqpacketConnect }, { "shutdown", Shutdown }, { "openpty", Openpty } };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) return NULL;
  }
  return exports;
}
