// The shape of an event-sourced decider, as Emmett names it: decide(state, command) gives the
// events to append (or a refusal), evolve(state, event) gives the next state, and every stream
// starts from initialState. The daemon's dispatcher and the model specs take the same value.

export interface Decider<State, Command, Event, Decision> {
  decide(state: State, command: Command): Decision;
  evolve(state: State, event: Event): State;
  initialState: State;
}
