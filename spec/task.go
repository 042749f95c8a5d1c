package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// KasprTask runs a pipeline once at start, or on an interval or cron
// schedule.
type KasprTask struct {
	Object `yaml:",inline"`
	Spec   KasprTaskSpec `yaml:"spec"`
}

// KasprTaskSpec is the desired behaviour of a task.
type KasprTaskSpec struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description,omitempty"`
	OnLeader    bool          `yaml:"onLeader"`
	Schedule    *TaskSchedule `yaml:"schedule,omitempty"`
	Processors  *Processors   `yaml:"processors"`
}

// TaskSchedule says when a task runs: exactly one of Interval and Cron.
type TaskSchedule struct {
	Interval Duration `yaml:"interval,omitempty"`
	Cron     string   `yaml:"cron,omitempty"`
	Timezone string   `yaml:"timezone,omitempty"`
}

// cronParser reads standard five-field cron expressions and descriptors such
// as @daily and @every 5m.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (c *checker) checkTask(t *KasprTask) {
	if s := t.Spec.Schedule; s != nil {
		const path = "spec.schedule"
		switch {
		case s.Interval != "" && s.Cron != "":
			c.add(t, path+".cron", "schedule sets both interval and cron: use one")
		case s.Interval == "" && s.Cron == "":
			c.add(t, path, "schedule is empty: set interval or cron, or leave schedule out to run once at start")
		case s.Interval != "":
			c.checkDuration(t, path+".interval", s.Interval)
		default:
			if strings.HasPrefix(strings.TrimSpace(s.Cron), "TZ=") || strings.HasPrefix(strings.TrimSpace(s.Cron), "CRON_TZ=") {
				c.add(t, path+".cron", "set the time zone with schedule.timezone, not in the expression")
			} else if err := checkCron(s.Cron); err != nil {
				c.add(t, path+".cron", "%v", err)
			}
		}
		if s.Timezone != "" {
			if s.Cron == "" {
				c.add(t, path+".timezone", "timezone applies to cron schedules only")
			} else if _, err := time.LoadLocation(s.Timezone); err != nil {
				c.add(t, path+".timezone", "unknown time zone %q: use an IANA name such as \"Europe/Paris\" or \"UTC\"", s.Timezone)
			}
		}
	}
	c.checkProcessors(t, "spec.processors", t.Spec.Processors)
}

var cronFields = []string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// checkCron parses a cron expression and, when it fails, names the field at
// fault.
func checkCron(expr string) error {
	_, err := cronParser.Parse(expr)
	if err == nil {
		return nil
	}
	fields := strings.Fields(expr)
	if len(fields) == len(cronFields) {
		for i, f := range fields {
			probe := slices.Repeat([]string{"*"}, len(cronFields))
			probe[i] = f
			if _, ferr := cronParser.Parse(strings.Join(probe, " ")); ferr != nil {
				return fmt.Errorf("%s field %q of the cron expression is wrong: %v", cronFields[i], f, ferr)
			}
		}
	}
	if strings.HasPrefix(expr, "@") {
		return fmt.Errorf("not a valid cron expression: %v (descriptors are @yearly, @monthly, @weekly, @daily, @hourly and @every <duration>)", err)
	}
	return fmt.Errorf("not a valid cron expression: %v; write five fields: minute hour day-of-month month day-of-week", err)
}
