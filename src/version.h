/* version.h: the relay's version and protocol version. */
#ifndef CHATRELAY_VERSION_H
#define CHATRELAY_VERSION_H
#define CHATRELAY_VERSION PACKAGE_VERSION
#define CHATRELAY_PROTOCOL 1
#endif
