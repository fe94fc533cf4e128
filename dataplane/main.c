/* SPDX-License-Identifier: MIT */
/*
 * main.c - sipedge-dataplane: EAL, options, port, workers, service thread,
 * shutdown. Wiring only; the work is in the dp_*.c files.
 *
 * SLOW PATH.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"

#define DP_JUMBO_MBUFS          255
#define DP_NEIGH_SIZE           4096
#define DP_SVC_RING             4096

static void
dp_on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&dp_quit, 1, __ATOMIC_RELAXED);
}

int
main(int argc, char **argv)
{
	static struct dp_conf conf;
	static struct dp_iface ifc;
	static struct dp_service svc;
	static struct dp_loader loader;
	struct dp_neigh_tbl *neigh = NULL;
	struct dp_lcore *lcs = NULL;
	unsigned int lcore, nb_workers, i;
	int socket, rc, ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed: %s\n",
			 rte_strerror(rte_errno));
	argc -= ret;
	argv += ret;

	dp_conf_defaults(&conf);
	rc = dp_opts_parse(&conf, argc, argv);
	if (rc != 0) {
		rte_eal_cleanup();
		return rc == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	nb_workers = rte_lcore_count() - 1;
	if (nb_workers == 0)
		rte_exit(EXIT_FAILURE, "need a main lcore (service) and at "
			 "least one worker lcore (-l 0-1)\n");
	if (!rte_eth_dev_is_valid_port(conf.port_id))
		rte_exit(EXIT_FAILURE, "port %u not found (%u ports)\n",
			 conf.port_id, rte_eth_dev_count_avail());

	signal(SIGINT, dp_on_signal);
	signal(SIGTERM, dp_on_signal);

	socket = rte_eth_dev_socket_id(conf.port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = dp_pools_create(&ifc, socket, conf.mbufs, DP_JUMBO_MBUFS,
			     conf.mtu, conf.probe_interval_ms != 0);
	if (rc != 0)
		rte_exit(EXIT_FAILURE, "mempools (%u mbufs): %s\n", conf.mbufs,
			 rte_strerror(-rc));
	rc = dp_port_init(&ifc, &conf, conf.port_id, (uint16_t)nb_workers);
	if (rc != 0)
		rte_exit(EXIT_FAILURE, "port %u: %s\n", conf.port_id,
			 rte_strerror(-rc));
	rc = dp_neigh_tbl_new(DP_NEIGH_SIZE, socket, &neigh);
	if (rc != 0)
		rte_exit(EXIT_FAILURE, "neighbour table: %s\n", strerror(-rc));
	rc = dp_service_init(&svc, &ifc, neigh, DP_SVC_RING, socket);
	if (rc != 0)
		rte_exit(EXIT_FAILURE, "service ring: %s\n", rte_strerror(-rc));
	lcs = rte_zmalloc_socket("dp_lcores", nb_workers * sizeof(*lcs),
				 RTE_CACHE_LINE_SIZE, socket);
	if (lcs == NULL)
		rte_exit(EXIT_FAILURE, "per-lcore state: out of memory\n");
	for (i = 0; i < nb_workers; i++) {
		rc = dp_lcore_init(&lcs[i], &ifc, neigh, svc.ring, (uint16_t)i,
				   socket);
		if (rc == 0)
			rc = dp_sip_lcore_init(&lcs[i], socket);
		if (rc != 0)
			rte_exit(EXIT_FAILURE, "worker %u: %s\n", i,
				 strerror(-rc));
	}
	dp_service_set_workers(&svc, lcs, (uint16_t)nb_workers);
	rc = dp_loader_start(&loader, &conf, lcs, (uint16_t)nb_workers, &svc,
			     true);
	if (rc != 0)
		rte_exit(EXIT_FAILURE, "snapshot loader: %s\n", strerror(-rc));

	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rc = rte_eal_remote_launch(dp_worker_main, &lcs[i], lcore);
		if (rc != 0)
			rte_exit(EXIT_FAILURE, "lcore %u: launch: %s\n", lcore,
				 rte_strerror(-rc));
		i++;
	}
	printf("sipedge-dataplane: %u worker(s) on port %u, SIP port%s",
	       nb_workers, conf.port_id, conf.nsip_port > 1 ? "s" : "");
	for (i = 0; i < conf.nsip_port; i++)
		printf(" %u", conf.sip_port[i]);
	printf(", %s mode, generation %llu\n",
	       conf.mode == DP_MODE_PROXY ? "proxy" : "redirect",
	       (unsigned long long)loader.generation);
	fflush(stdout);

	dp_service_run(&svc);       /* until SIGINT/SIGTERM */
	rte_eal_mp_wait_lcore();
	dp_loader_stop(&loader);

	dp_port_stats_print(stdout, &ifc);
	dp_stats_print(stdout, lcs, nb_workers, &svc);
	for (i = 0; i < nb_workers; i++) {
		dp_sip_lcore_fini(&lcs[i]);
		dp_lcore_fini(&lcs[i]);
	}
	dp_port_fini(&ifc);
	dp_service_fini(&svc);
	dp_neigh_tbl_free(neigh);
	rte_free(lcs);
	dp_pools_free(&ifc);
	rte_eal_cleanup();
	return EXIT_SUCCESS;
}
