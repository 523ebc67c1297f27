/* session_env.h: environment variables -> session options, and the step-time
 * table (cli/session_env.c), for the CLI and the benchmark program. */
#ifndef MNV3_CLI_SESSION_ENV_H
#define MNV3_CLI_SESSION_ENV_H

#include "mnv3.h"

/* MNV3_FAST_ISA (unless o->isa is set), MNV3_FAST_LAYOUT=planar, MNV3_SESSION_PROFILE. */
void cli_session_env(mnv3_session_options *o);
/* With MNV3_SESSION_PROFILE set: every step's time on stderr. */
void cli_print_step_times(const mnv3_session *s);

#endif
