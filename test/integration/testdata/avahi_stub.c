/*
 * avahi_stub.c: LD_PRELOAD stand-in for the avahi-client calls of CUPS'
 * reference printer, ippeveprinter (cups-ipp-utils 2.4.2), which refuses
 * to start without avahi-daemon ("Unable to initialize DNS-SD"). The tests
 * run it inside a network namespace of their own and must not announce
 * anything anyway: every call succeeds and registers nothing.
 *
 * Built by the integration tests: gcc -shared -fPIC -o avahi_stub.so avahi_stub.c
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int unused; } stub_t;
static stub_t poll_obj, client_obj;

void *avahi_threaded_poll_new(void) { return &poll_obj; }
void *avahi_threaded_poll_get(void *p) { (void)p; return &poll_obj; }
int avahi_threaded_poll_start(void *p) { (void)p; return 0; }
void avahi_threaded_poll_lock(void *p) { (void)p; }
void avahi_threaded_poll_unlock(void *p) { (void)p; }

void *avahi_client_new(const void *poll, int flags, void *cb, void *userdata, int *error) {
	(void)poll; (void)flags; (void)cb; (void)userdata;
	if (error) *error = 0;
	return &client_obj;
}
int avahi_client_errno(void *c) { (void)c; return 0; }
const char *avahi_client_get_host_name_fqdn(void *c) { (void)c; return "localhost"; }

void *avahi_entry_group_new(void *c, void *cb, void *userdata) {
	(void)c; (void)cb; (void)userdata;
	return calloc(1, sizeof(stub_t));
}
int avahi_entry_group_free(void *g) { free(g); return 0; }
int avahi_entry_group_commit(void *g) { (void)g; return 0; }
int avahi_entry_group_add_service_strlst(void *g, int iface, int proto, int flags, const char *name,
	const char *type, const char *domain, const char *host, unsigned short port, void *txt) {
	(void)g; (void)iface; (void)proto; (void)flags; (void)name; (void)type; (void)domain; (void)host; (void)port; (void)txt;
	return 0;
}
int avahi_entry_group_add_service_subtype(void *g, int iface, int proto, int flags, const char *name,
	const char *type, const char *domain, const char *subtype) {
	(void)g; (void)iface; (void)proto; (void)flags; (void)name; (void)type; (void)domain; (void)subtype;
	return 0;
}
/* A non-NULL list the caller frees with avahi_string_list_free. */
void *avahi_string_list_add_printf(void *l, const char *format, ...) {
	(void)format;
	return l ? l : calloc(1, sizeof(stub_t));
}
void avahi_string_list_free(void *l) { free(l); }
