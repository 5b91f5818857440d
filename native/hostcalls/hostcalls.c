// The few system calls the runtime service needs that Node does not expose:
//   mount(source, target, fstype, data)  an overlay rootfs without spawning mount(8) per container
//   umount(target)                       lazily (MNT_DETACH), so a busy mount never blocks teardown
//   dup2(oldfd, newfd)                   a pre-started service points its stdout/stderr at the
//                                        container's log once it is claimed
// Each throws an Error whose code is the errno name (EBUSY, EPERM, ...) on failure.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
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

static napi_value Dup2(napi_env env, napi_callback_info info) {
  static const char usage[] = "dup2(oldfd, newfd): two integers expected";
  napi_value argv[2];
  if (!get_args(env, info, 2, argv, usage)) return NULL;
  int32_t from, to;
  if (napi_get_value_int32(env, argv[0], &from) != napi_ok || napi_get_value_int32(env, argv[1], &to) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", usage);
    return NULL;
  }
  if (dup2(from, to) < 0) return throw_errno(env, "dup2", "fd");
  return NULL;
}

NAPI_MODULE_INIT() {
  const struct { const char* name; napi_callback fn; } fns[] = { { "mount", Mount }, { "umount", Umount }, { "dup2", Dup2 } };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) return NULL;
  }
  return exports;
}
