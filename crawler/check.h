/*
 * check.h: `pglearn check`, a monitoring-plugin style health check.
 */
#ifndef PGLEARN_CHECK_H
#define PGLEARN_CHECK_H

int			check_main(int argc, char **argv);

#endif							/* PGLEARN_CHECK_H */
