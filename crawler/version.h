/*
 * version.h: the one version of pglearn, for the command's --version, its
 * User-Agent and `check`.  It is default_version of pglearn.control, which
 * crawler/Makefile reads and passes as -DPGLEARN_VERSION, so the command
 * can never say another version than the extension it is built with.
 */
#ifndef PGLEARN_VERSION_H
#define PGLEARN_VERSION_H

#ifndef PGLEARN_VERSION
#error "PGLEARN_VERSION is not defined: build with crawler/Makefile, which reads it from pglearn.control"
#endif

#endif							/* PGLEARN_VERSION_H */
