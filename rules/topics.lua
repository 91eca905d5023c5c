-- rules/topics.lua — the policy topics of key 1, voice service (§10.9; SPEC 2.5).
--
-- A tree as data.  A node with `items` is a menu: its prompt is `menu_prompt` followed by
-- each item's `title_prompt` ("养老保险请按1"), then the key hints.  A node without items
-- is a leaf: `answer_prompt` is the recording played; then # repeats it, * goes back and
-- (in agent hours) 0 reaches an agent.  `id` names the topic in the CDR: route voice:<id>,
-- menu voice.<id>.  Keys are 1-9 (0 is the agent, * back, # repeat).
--
-- To add a topic: add an entry here, and its lines to prompts/topics.txt
-- (`voice/<id>_t|...请按N` and `voice/<id>|the answer`); `make prompts`; save.  The
-- build refuses a key used twice, a prompt with no text, or a key outside 1-9.
return {
  id = "voice", menu_prompt = "voice/menu",
  items = {
    { key = "1", id = "pension", title_prompt = "voice/pension_t", menu_prompt = "voice/pension",
      items = {
        { key = "1", id = "pension_age", title_prompt = "voice/pension_age_t",
          answer_prompt = "voice/pension_age" },
        { key = "2", id = "pension_contribution", title_prompt = "voice/pension_contribution_t",
          answer_prompt = "voice/pension_contribution" },
        { key = "3", id = "pension_min_years", title_prompt = "voice/pension_min_years_t",
          answer_prompt = "voice/pension_min_years" },
        { key = "4", id = "pension_transfer", title_prompt = "voice/pension_transfer_t",
          answer_prompt = "voice/pension_transfer" },
      } },
    { key = "2", id = "medical", title_prompt = "voice/medical_t", menu_prompt = "voice/medical",
      items = {
        { key = "1", id = "medical_reimburse", title_prompt = "voice/medical_reimburse_t",
          answer_prompt = "voice/medical_reimburse" },
        { key = "2", id = "medical_offsite", title_prompt = "voice/medical_offsite_t",
          answer_prompt = "voice/medical_offsite" },
      } },
    { key = "3", id = "unemployment", title_prompt = "voice/unemployment_t",
      menu_prompt = "voice/unemployment",
      items = {
        { key = "1", id = "unemployment_benefit", title_prompt = "voice/unemployment_benefit_t",
          answer_prompt = "voice/unemployment_benefit" },
        { key = "2", id = "unemployment_apply", title_prompt = "voice/unemployment_apply_t",
          answer_prompt = "voice/unemployment_apply" },
      } },
    { key = "4", id = "work_injury", title_prompt = "voice/work_injury_t",
      menu_prompt = "voice/work_injury",
      items = {
        { key = "1", id = "injury_recognition", title_prompt = "voice/injury_recognition_t",
          answer_prompt = "voice/injury_recognition" },
        { key = "2", id = "injury_benefits", title_prompt = "voice/injury_benefits_t",
          answer_prompt = "voice/injury_benefits" },
      } },
    { key = "5", id = "maternity", title_prompt = "voice/maternity_t", menu_prompt = "voice/maternity",
      items = {
        { key = "1", id = "maternity_allowance", title_prompt = "voice/maternity_allowance_t",
          answer_prompt = "voice/maternity_allowance" },
        { key = "2", id = "maternity_medical", title_prompt = "voice/maternity_medical_t",
          answer_prompt = "voice/maternity_medical" },
      } },
    { key = "6", id = "labour", title_prompt = "voice/labour_t", menu_prompt = "voice/labour",
      items = {
        { key = "1", id = "labour_contract", title_prompt = "voice/labour_contract_t",
          answer_prompt = "voice/labour_contract" },
        { key = "2", id = "labour_wages", title_prompt = "voice/labour_wages_t",
          answer_prompt = "voice/labour_wages" },
        { key = "3", id = "labour_arbitration", title_prompt = "voice/labour_arbitration_t",
          answer_prompt = "voice/labour_arbitration" },
      } },
    { key = "7", id = "employment", title_prompt = "voice/employment_t", menu_prompt = "voice/employment",
      items = {
        { key = "1", id = "employment_services", title_prompt = "voice/employment_services_t",
          answer_prompt = "voice/employment_services" },
        { key = "2", id = "employment_training", title_prompt = "voice/employment_training_t",
          answer_prompt = "voice/employment_training" },
      } },
    { key = "8", id = "card", title_prompt = "voice/card_t", menu_prompt = "voice/card",
      items = {
        { key = "1", id = "card_apply", title_prompt = "voice/card_apply_t",
          answer_prompt = "voice/card_apply" },
        { key = "2", id = "card_loss", title_prompt = "voice/card_loss_t",
          answer_prompt = "voice/card_loss" },
      } },
  },
}
