// The time slider: the quarter ends since the survey, then today. Moving it sets `at` in the
// page state; map tiles, list, card history and balance then show that day's state.

import { getConfig } from "./api.js";
import { getState, setState } from "./state.js";
import { dateDe } from "./ui.js";

/** The days the slider offers (ISO dates; the last is today). */
export function sliderDays() {
  const { quarters, today } = getConfig();
  return [...quarters, today];
}

/** Wire the slider to the state. */
export function initTimeSlider() {
  const range = document.getElementById("time-range");
  const output = document.getElementById("time-label");
  const days = sliderDays();
  range.max = String(days.length - 1);
  const show = (state) => {
    const index = state.at ? days.indexOf(state.at) : days.length - 1;
    range.value = String(index >= 0 ? index : days.length - 1);
    const text = !state.at ? "heute" : dateDe(state.at);
    output.textContent = text;
    range.setAttribute("aria-valuetext", state.at ? `Stand ${text}` : "Stand heute");
  };
  range.addEventListener("input", () => {
    const day = days[Number(range.value)];
    setState({ at: day === getConfig().today ? undefined : day });
  });
  show(getState());
  return show;
}
