package scenarios

import "time"

// MaxPauseTimeout bounds spec.pause_timeout (and a pause's own timeout):
// a run is not parked for days with its lease held.
const MaxPauseTimeout = 24 * time.Hour

// control checks the fields that govern pausing a run.
func (v *validator) control(sp *Spec) {
	if t := sp.PauseTimeout.D(); t != 0 && (t < time.Second || t > MaxPauseTimeout) {
		v.Add("spec.pause_timeout", "must be between 1s and %s, got %s", MaxPauseTimeout, sp.PauseTimeout)
	}
}
