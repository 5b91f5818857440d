// peercred(fd) -> { pid, uid, gid }: the kernel's record of who is on the other end of a
// connected Unix socket (SO_PEERCRED). Node exposes no such API, and the server must never
// take a client's word for its own identity, so this is the only source of ctx.peer.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <node_api.h>

static napi_value throw_error(napi_env env, const char* code, const char* msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static int set_number(napi_env env, napi_value obj, const char* key, double value) {
  napi_value v;
  if (napi_create_double(env, value, &v) != napi_ok) return 0;
  return napi_set_named_property(env, obj, key, v) == napi_ok;
}

static napi_value Peercred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) return throw_error(env, "EINVAL", "peercred(fd): expected a file descriptor argument");

  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
    return throw_error(env, "EINVAL", "peercred(fd): fd must be a non-negative integer");

  struct ucred cred;
  socklen_t len = sizeof(cred);
  memset(&cred, 0, sizeof(cred));
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    char msg[160];
    int err = errno;
    snprintf(msg, sizeof(msg), "getsockopt(SO_PEERCRED) on fd %d failed: %s", fd, strerror(err));
    return throw_error(env, "EPEERCRED", msg);
  }
  if (len != sizeof(cred)) return throw_error(env, "EPEERCRED", "getsockopt(SO_PEERCRED) returned a short ucred");

  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  if (!set_number(env, obj, "pid", (double)cred.pid) || !set_number(env, obj, "uid", (double)cred.uid) ||
      !set_number(env, obj, "gid", (double)cred.gid))
    return NULL;
  return obj;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "peercred", NAPI_AUTO_LENGTH, Peercred, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "peercred", fn) != napi_ok) return NULL;
  return exports;
}
