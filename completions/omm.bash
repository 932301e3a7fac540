# bash completion for omctl and omrun (omm). Installed as
# share/bash-completion/completions/omctl and .../omrun.
#
# Commands and options are completed from the programs' own lists (omctl
# help); pids from `omctl ps`, node names from `omctl nodes`, both asked of
# the ommd the command line names (-s SOCKET) or the default one, and
# nothing at all when it does not answer.

_omm_sock_args() {
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s|--socket) echo "-s ${COMP_WORDS[i + 1]}"; return ;;
		esac
	done
}

_omm_pids() {
	omctl $(_omm_sock_args) ps 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_omm_nodes() {
	omctl $(_omm_sock_args) nodes 2>/dev/null |
	    awk 'NR > 1 { print ($1 == "*") ? $3 : $2 }'
}

_omctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local i cmd='' nargs=0 cmds
	COMPREPLY=()
	case $prev in
	-s|--socket|-o) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s|--socket) i=$((i + 1)) ;;
		-*) [ -n "$cmd" ] || continue ;;
		*) if [ -z "$cmd" ]; then cmd=${COMP_WORDS[i]}; else
			nargs=$((nargs + 1)); fi ;;
		esac
	done
	if [ -z "$cmd" ]; then
		cmds=$(omctl help 2>/dev/null | awk '/^  [a-z]/ { print $1 }')
		COMPREPLY=($(compgen -W "$cmds help --help --version -s" -- "$cur"))
		return
	fi
	case $cmd in
	help)
		cmds=$(omctl help 2>/dev/null | awk '/^  [a-z]/ { print $1 }')
		[ "$nargs" -eq 0 ] && COMPREPLY=($(compgen -W "$cmds" -- "$cur")) ;;
	migrate)
		case $nargs in
		0) COMPREPLY=($(compgen -W "$(_omm_pids)" -- "$cur")) ;;
		1) COMPREPLY=($(compgen -W "$(_omm_nodes) home" -- "$cur")) ;;
		esac ;;
	bring)
		[ "$nargs" -eq 0 ] &&
		    COMPREPLY=($(compgen -W "$(_omm_pids) --all" -- "$cur")) ;;
	lock|unlock)
		[ "$nargs" -eq 0 ] &&
		    COMPREPLY=($(compgen -W "$(_omm_pids)" -- "$cur")) ;;
	checkpoint|ckpt)
		if [ "$nargs" -eq 0 ] && [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -W "$(_omm_pids)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "-o --leave-running --kill" -- "$cur"))
		fi ;;
	image|img)
		if [ "$nargs" -eq 0 ]; then
			COMPREPLY=($(compgen -W "info" -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	ca)
		[ "$nargs" -eq 0 ] &&
		    COMPREPLY=($(compgen -W "init issue revoke" -- "$cur")) ;;
	set)
		case $nargs in
		0) COMPREPLY=($(compgen -W "speed block stay lstay quiet loadlimit balance" -- "$cur")) ;;
		1) case ${COMP_WORDS[COMP_CWORD - 1]} in
		   speed) COMPREPLY=($(compgen -W "auto" -- "$cur")) ;;
		   loadlimit) COMPREPLY=($(compgen -W "none" -- "$cur")) ;;
		   *) COMPREPLY=($(compgen -W "on off" -- "$cur")) ;;
		   esac ;;
		esac ;;
	ps|nodes|status|reload)
		COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
	esac
}

_omrun() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local i
	COMPREPLY=()
	case $prev in
	-s|--socket|--pidfile|--checkpoint-file|--restore)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--on) COMPREPLY=($(compgen -W "$(_omm_nodes)" -- "$cur")); return ;;
	--nodes|--checkpoint-every) return ;;
	esac
	# past omrun's options: the command and its own arguments
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s|--socket|--pidfile|--checkpoint-file|--restore|--on|--nodes|--checkpoint-every)
			i=$((i + 1)) ;;
		--) _command_offset $((i + 1)) 2>/dev/null; return ;;
		-*) ;;
		*) _command_offset "$i" 2>/dev/null; return ;;
		esac
	done
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-s --socket --pidfile --stats --on --stay --nodes --checkpoint-every --checkpoint-file --restore --help --version" -- "$cur"))
	else
		COMPREPLY=($(compgen -c -- "$cur"))
	fi
}

complete -F _omctl omctl
complete -F _omrun omrun
