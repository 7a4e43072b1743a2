package web

import (
	"net/http"
)

// Onboarding: Set your company's tools, the form, Enable, Done.

type toolsData struct {
	Configured bool
}

func (s *Server) onboardingTools(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.currentM365(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "onboarding_tools", "Set your company's tools", toolsData{Configured: cfg != nil})
}

func (s *Server) onboardingForm(w http.ResponseWriter, r *http.Request) {
	s.showM365Form(w, r, http.StatusOK, onboardingPage, nil, nil)
}

func (s *Server) onboardingSave(w http.ResponseWriter, r *http.Request) {
	s.saveM365(w, r, onboardingPage, "/onboarding/done")
}

func (s *Server) onboardingDone(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "onboarding_done", "Microsoft 365 is ready", nil)
}

func (s *Server) onboardingFinish(w http.ResponseWriter, r *http.Request) {
	if err := s.admin.FinishOnboarding(r.Context(), sessionFrom(r).user.ID); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/servers", http.StatusSeeOther)
}
