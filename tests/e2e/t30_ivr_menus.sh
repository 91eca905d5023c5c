#!/usr/bin/env bash
# t30_ivr_menus — the 12333 main menu over SIP (issue 3): the shipped scripts/ and rules/
# on two engines at once, one at 10:00 on a summer Wednesday (agent hours, 8:00-18:00) and
# one at 19:00 the same day (out of hours), `hotline run --clock`.
#   agent     (in hours) from a Jilin City fixed line 043212345678: key 0 by RFC 4733
#             during the main menu -> route queue:0432.general; nobody serves it (nor the
#             province, its overflow): queue_no_agents, the offer of a message; caller hangs up
#   wrongkey  (in hours, SIP INFO): 7 (wrong) -> "invalid choice" and the menu again; 1
#             (voice service), * -> back to the main menu (CDR menus main voice main)
#   outhours  (out of hours, SIP INFO): the hours announcement, then the out-of-hours menu
#             (keys 1-4); 0 is a wrong key there -> "invalid choice" and that menu again
# Timing: the welcome lasts ~11.4 s, the hours announcement ~11.9 s; keys are sent while
# the menu prompt plays (barge-in), so the CDR lists the menu prompt before the key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
need_root "RFC 4733 captures (key 0 of the agent call)"
start_ivr 2026-07-01T10:00:00
start_ivr2 2026-07-01T19:00:00
"$PY" "$E2E/mkaudio.py" stream "$WORK/talk.ulaw" 4 pcmu || fail "mkaudio.py stream failed"

# the agent call sends no RTP but its key (it lasts ~26 s; the key restarts the 20 s RTP timeout)
ivr_call 0 agent 043212345678 pause:13500 rfc:0 pause:12000 bye; p_agent=$!
ivr_call 1 wrongkey 13800138000 stream:talk.ulaw pause:13500 info:7 pause:6000 info:1 \
  pause:2500 info:'*' pause:2500 bye; p_wrong=$!
IVR_ENGINE=2 ivr_call 2 outhours 043212345678 stream:talk.ulaw pause:25500 info:0 \
  pause:6500 bye; p_out=$!

ivr_wait agent "$p_agent"
ivr_wait wrongkey "$p_wrong"
ivr_wait outhours "$p_out"

ivr_cdr agent route=queue:0432.general menus=main dtmf=0 hangup_side=caller \
  vars.hours=in vars.season=summer vars.centre=0432 \
  'prompts~^welcome_1 province_name welcome_2 main_menu agent_transfer queue_no_agents' \
  queue=province.general queue_outcome=empty
ivr_cdr wrongkey route=hangup 'menus=main voice main' 'dtmf=71*' hangup_side=caller vars.hours=in \
  'prompts~^welcome_1 province_name welcome_2 main_menu invalid_choice main_menu voice/menu( [^ ]+)* main_menu$'
IVR_ENGINE=2 ivr_cdr outhours route=hangup menus=main dtmf=0 hangup_side=caller vars.hours=out \
  'prompts~^welcome_1 province_name welcome_2 hours_info main_menu_out invalid_choice main_menu_out$'
ivr_done "in hours: main menu, 0 -> queue:0432.general (RFC 4733); wrong key -> invalid_choice + menu; * back from voice; out of hours: hours_info + main_menu_out, 0 refused"
